//! Local accounts: groups and users.

use super::{bigint, int, text, Collector, Gather, Hooks, Instance, TableDef};

pub static GROUPS_COLLECTOR: Collector = Collector {
    name: "groups",
    cli_aliases: &[],
    tables: &[&GROUPS],
    switch: |c| &mut c.groups,
    gather: Gather::Rows(|p, each| p.groups().map(|rows| rows.into_iter().for_each(each))),
};

pub static GROUPS: TableDef = TableDef {
    name: "dbsync_groups",
    index: "wazuh-states-inventory-groups",
    columns: &[
        bigint("group_id", "group.id"),
        text("group_name", "group.name"),
        text("group_description", "group.description"),
        bigint("group_id_signed", "group.id_signed"),
        text("group_uuid", "group.uuid"),
        int("group_is_hidden", "group.is_hidden").flag(),
        text("group_users", "group.users").list(),
    ],
    primary_key: &["group_name"],
    limit_name: "groups",
    limit_order: &["group_name"],
    instance: Instance::Regular,
    collector: &GROUPS_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static USERS_COLLECTOR: Collector = Collector {
    name: "users",
    cli_aliases: &[],
    tables: &[&USERS],
    switch: |c| &mut c.users,
    gather: Gather::Rows(|p, each| p.users().map(|rows| rows.into_iter().for_each(each))),
};

pub static USERS: TableDef = TableDef {
    name: "dbsync_users",
    index: "wazuh-states-inventory-users",
    columns: &[
        text("user_name", "user.name"),
        text("user_full_name", "user.full_name"),
        text("user_home", "user.home"),
        bigint("user_id", "user.id"),
        bigint("user_uid_signed", "user.uid_signed"),
        text("user_uuid", "user.uuid"),
        text("user_groups", "user.groups").list(),
        bigint("user_group_id", "user.group.id"),
        bigint("user_group_id_signed", "user.group.id_signed"),
        text("user_created", "user.created"),
        text("user_roles", "user.roles").list(),
        text("user_shell", "user.shell"),
        text("user_type", "user.type"),
        int("user_is_hidden", "user.is_hidden").flag(),
        int("user_is_remote", "user.is_remote").flag(),
        text("user_last_login", "user.last_login"),
        bigint("user_auth_failed_count", "user.auth_failures.count"),
        text("user_auth_failed_timestamp", "user.auth_failures.timestamp"),
        bigint("user_password_last_change", "user.password.last_change"),
        text(
            "user_password_expiration_date",
            "user.password.expiration_date",
        ),
        text(
            "user_password_hash_algorithm",
            "user.password.hash_algorithm",
        ),
        int("user_password_inactive_days", "user.password.inactive_days"),
        int(
            "user_password_max_days_between_changes",
            "user.password.max_days_between_changes",
        ),
        int(
            "user_password_min_days_between_changes",
            "user.password.min_days_between_changes",
        ),
        text("user_password_status", "user.password.status"),
        int(
            "user_password_warning_days_before_expiration",
            "user.password.warning_days_before_expiration",
        ),
        bigint("process_pid", "process.pid"),
        text("host_ip", "host.ip").list(),
        int("login_status", "login.status").flag(),
        text("login_tty", "login.tty"),
        text("login_type", "login.type"),
    ],
    primary_key: &["user_name"],
    limit_name: "users",
    limit_order: &["user_name"],
    instance: Instance::Regular,
    collector: &USERS_COLLECTOR,
    hooks: Hooks::NONE,
};
