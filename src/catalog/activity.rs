//! What runs: processes and system services.

use super::{bigint, int, text, Collector, Gather, Hooks, Instance, TableDef};

pub static PROCESSES_COLLECTOR: Collector = Collector {
    name: "processes",
    cli_aliases: &[],
    tables: &[&PROCESSES],
    switch: |c| &mut c.processes,
    gather: Gather::Rows(|p, each| p.processes(each)),
};

pub static PROCESSES: TableDef = TableDef {
    name: "dbsync_processes",
    index: "wazuh-states-inventory-processes",
    columns: &[
        text("pid", "process.pid"),
        text("name", "process.name"),
        text("state", "process.state"),
        bigint("parent_pid", "process.parent.pid"),
        bigint("utime", "process.utime"),
        bigint("stime", "process.stime"),
        text("command_line", "process.command_line"),
        text("args", "process.args").list(),
        bigint("args_count", "process.args_count"),
        text("start", "process.start"),
    ],
    primary_key: &["pid"],
    limit_name: "processes",
    limit_order: &["pid"],
    instance: Instance::Regular,
    collector: &PROCESSES_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static SERVICES_COLLECTOR: Collector = Collector {
    name: "services",
    cli_aliases: &[],
    tables: &[&SERVICES],
    switch: |c| &mut c.services,
    gather: Gather::Rows(|p, each| p.services().map(|rows| rows.into_iter().for_each(each))),
};

pub static SERVICES: TableDef = TableDef {
    name: "dbsync_services",
    index: "wazuh-states-inventory-services",
    columns: &[
        text("service_id", "service.id"),
        text("service_name", "service.name"),
        text("service_description", "service.description"),
        text("service_type", "service.type"),
        text("service_state", "service.state"),
        text("service_sub_state", "service.sub_state"),
        text("service_enabled", "service.enabled"),
        text("service_start_type", "service.start_type"),
        text("service_restart", "service.restart"),
        bigint("service_frequency", "service.frequency"),
        int("service_starts_on_mount", "service.starts.on_mount").flag(),
        text(
            "service_starts_on_path_modified",
            "service.starts.on_path_modified",
        )
        .list(),
        text(
            "service_starts_on_not_empty_directory",
            "service.starts.on_not_empty_directory",
        )
        .list(),
        int("service_inetd_compatibility", "service.inetd_compatibility").flag(),
        bigint("process_pid", "process.pid"),
        text("process_executable", "process.executable"),
        text("process_args", "process.args").list(),
        text("process_user_name", "process.user.name"),
        text("process_group_name", "process.group.name"),
        text("process_working_dir", "process.working_directory"),
        text("process_root_dir", "process.root_directory"),
        text("file_path", "file.path"),
        text("service_address", "service.address"),
        text("log_file_path", "log.file.path"),
        text("error_log_file_path", "error.log.file.path"),
        int("service_exit_code", "service.exit_code"),
        int("service_win32_exit_code", "service.win32_exit_code"),
        text("service_following", "service.following"),
        text("service_object_path", "service.object_path"),
        bigint("service_target_ephemeral_id", "service.target.ephemeral_id"),
        text("service_target_type", "service.target.type"),
        text("service_target_address", "service.target.address"),
    ],
    primary_key: &["service_id", "file_path"],
    limit_name: "services",
    limit_order: &["service_id"],
    instance: Instance::Regular,
    collector: &SERVICES_COLLECTOR,
    hooks: Hooks::NONE,
};
