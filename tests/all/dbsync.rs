//! The diff engine on a real SQLite file: what it reports, what it stores, and how it
//! survives reopening and a damaged file.

use std::cell::RefCell;

use serde_json::{json, Value};
use syscollector::dbsync::{schema, Change, DbSync};
use syscollector::inventory::events::prepare_row;
use syscollector::{LogLevel, Row};

fn pkg(name: &str, version: &str, size: i64) -> Row {
    let v = json!({
        "name": name, "version_": version, "architecture": "amd64", "type": "deb",
        "path": " ", "vendor": "Debian", "size": size, "description": format!("{name} package"),
        "installed": " ", "category": "utils", "priority": "optional", "multiarch": " ",
        "source": name,
    });
    prepare_row(v.as_object().cloned().unwrap())
}

fn sync(db: &mut DbSync, rows: Vec<Row>) -> Vec<Change> {
    let mut changes = Vec::new();
    db.sync_table(&schema::PACKAGES, rows, &mut |c| changes.push(c))
        .unwrap();
    changes
}

#[test]
fn insert_modify_delete_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let mut db = DbSync::open(&path, &|_, _| {}).unwrap();

    let first = sync(
        &mut db,
        vec![pkg("a", "1", 10), pkg("b", "1", 20), pkg("c", "1", 30)],
    );
    assert_eq!(first.len(), 3);
    for c in &first {
        let Change::Inserted(r) = c else {
            panic!("expected insert, got {c:?}")
        };
        assert_eq!(r["version"], json!(1));
        assert!(r["checksum"].as_str().unwrap().len() == 40);
    }

    // Same rows again: no change at all.
    assert!(sync(
        &mut db,
        vec![pkg("a", "1", 10), pkg("b", "1", 20), pkg("c", "1", 30)]
    )
    .is_empty());

    // b changes size, c disappears, d appears.
    let changes = sync(
        &mut db,
        vec![pkg("a", "1", 10), pkg("b", "1", 21), pkg("d", "1", 40)],
    );
    assert_eq!(changes.len(), 3, "{changes:#?}");
    let modified = changes
        .iter()
        .find_map(|c| match c {
            Change::Modified { new, old } => Some((new, old)),
            _ => None,
        })
        .unwrap();
    assert_eq!(modified.0["name"], json!("b"));
    assert_eq!(modified.0["size"], json!(21));
    assert_eq!(modified.0["version"], json!(2));
    assert_eq!(modified.1["size"], json!(20));
    assert_eq!(modified.1["version"], json!(1));
    assert_eq!(modified.1["name"], json!("b"), "old keeps the primary key");
    assert!(
        modified.1.get("description").is_none(),
        "old has only changed columns"
    );
    let deleted = changes
        .iter()
        .find_map(|c| match c {
            Change::Deleted(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(deleted["name"], json!("c"));
    assert_eq!(deleted["size"], json!(30));
    assert_eq!(deleted["version"], json!(1));
    assert!(changes
        .iter()
        .any(|c| matches!(c, Change::Inserted(r) if r["name"] == json!("d"))));

    // Stored state matches the last scan.
    let mut names: Vec<String> = db
        .select_all(&schema::PACKAGES)
        .unwrap()
        .into_iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "d"]);
    assert_eq!(db.max_version().unwrap(), 2);
}

#[test]
fn reopening_continues_from_stored_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    {
        let mut db = DbSync::open(&path, &|_, _| {}).unwrap();
        assert_eq!(
            sync(&mut db, vec![pkg("a", "1", 1), pkg("b", "1", 2)]).len(),
            2
        );
    }
    let mut db = DbSync::open(&path, &|_, _| {}).unwrap();
    assert!(sync(&mut db, vec![pkg("a", "1", 1), pkg("b", "1", 2)]).is_empty());
    let changes = sync(&mut db, vec![pkg("a", "1", 1)]);
    assert!(matches!(&changes[..], [Change::Deleted(r)] if r["name"] == json!("b")));
}

#[test]
fn dropped_transaction_changes_nothing() {
    let mut db = DbSync::in_memory().unwrap();
    sync(&mut db, vec![pkg("a", "1", 1)]);
    {
        let mut txn = db.begin(&schema::PACKAGES).unwrap();
        txn.push(pkg("z", "1", 1), &mut |_| {}).unwrap();
        // dropped without finish: rolled back
    }
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 1);
    let changes = sync(&mut db, vec![pkg("a", "1", 1), pkg("z", "1", 1)]);
    assert!(matches!(&changes[..], [Change::Inserted(r)] if r["name"] == json!("z")));
}

#[test]
fn corrupt_file_is_moved_aside_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    std::fs::write(
        &path,
        b"this is not a database, just some bytes ".repeat(200),
    )
    .unwrap();
    let logs = RefCell::new(Vec::new());
    let mut db = DbSync::open(&path, &|l, m| logs.borrow_mut().push((l, m.to_string()))).unwrap();
    assert_eq!(sync(&mut db, vec![pkg("a", "1", 1)]).len(), 1);
    let logs = logs.into_inner();
    assert!(
        logs.iter().any(|(l, m)| *l == LogLevel::Error
            && m.contains("moving it to")
            && m.contains("cannot be counted")),
        "{logs:?}"
    );
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .count();
    assert_eq!(aside, 1);
    drop(db);
    // The new file is a valid database that keeps the row.
    let db = DbSync::try_open(&path).unwrap();
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 1);
}

#[test]
fn foreign_schema_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE dbsync_packages (name TEXT PRIMARY KEY, other TEXT);")
            .unwrap();
    }
    assert!(DbSync::try_open(&path).is_err());
    let mut db = DbSync::open(&path, &|_, _| {}).unwrap();
    assert_eq!(sync(&mut db, vec![pkg("a", "1", 1)]).len(), 1);
}

#[test]
fn unusable_path_falls_back_to_memory() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: cannot be opened nor moved onto.
    let path = dir.path().join("no/such/dir/local.db");
    let errors = RefCell::new(0);
    let mut db = DbSync::open(&path, &|l, _| {
        if l == LogLevel::Error {
            *errors.borrow_mut() += 1
        }
    })
    .unwrap();
    assert!(db.path().is_none());
    assert!(*errors.borrow() >= 1);
    assert_eq!(sync(&mut db, vec![pkg("a", "1", 1)]).len(), 1);
}

#[test]
fn rows_without_primary_key_are_refused_not_stored() {
    let mut db = DbSync::in_memory().unwrap();
    let mut txn = db.begin(&schema::PACKAGES).unwrap();
    let mut row = pkg("a", "1", 1);
    row.remove("name");
    assert!(txn.push(row, &mut |_| {}).is_err());
    txn.push(pkg("b", "1", 1), &mut |_| {}).unwrap();
    txn.finish(&mut |_| {}).unwrap();
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 1);
}

#[test]
fn duplicate_rows_in_one_scan_are_one_row() {
    let mut db = DbSync::in_memory().unwrap();
    let changes = sync(&mut db, vec![pkg("a", "1", 1), pkg("a", "1", 1)]);
    assert_eq!(changes.len(), 1);
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 1);
}

#[test]
fn set_version_reaches_every_table() {
    let mut db = DbSync::in_memory().unwrap();
    sync(&mut db, vec![pkg("a", "1", 1), pkg("b", "1", 1)]);
    let os = prepare_row(
        json!({"os_name": "Debian", "os_version": "12", "hostname": "h"})
            .as_object()
            .cloned()
            .unwrap(),
    );
    db.sync_table(&schema::OS, vec![os], &mut |_| {}).unwrap();
    assert_eq!(db.set_version_all(7).unwrap(), 3);
    assert_eq!(db.max_version().unwrap(), 7);
    for r in db.select_all(&schema::PACKAGES).unwrap() {
        assert_eq!(r["version"], Value::from(7));
    }
}

/// A beta host's `sync` flag (issue 12.3): never compared, reported with the value the
/// row had, set as the table sync is told; a database beta4's module created (the column
/// before `checksum`) is taken as it is.
#[test]
fn the_sync_flag_of_a_beta_database() {
    use syscollector::dbsync::{Selection, SyncFlag};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let mut db = DbSync::open(&path, &|_, _| {}).unwrap();
    assert!(!db.is_beta());
    sync(&mut db, vec![pkg("a", "1", 10)]);
    assert_eq!(db.migrate_to_beta().unwrap(), schema::TABLES.len());
    assert!(db.is_beta());
    assert_eq!(db.migrate_to_beta().unwrap(), 0, "once is enough");
    assert_eq!(
        db.count_selected(&schema::PACKAGES, Selection::Synced)
            .unwrap(),
        1
    );

    // Limited table: a new row waits, a changed one keeps its flag and reports it.
    let mut changes = Vec::new();
    {
        let mut txn = db.begin_with(&schema::PACKAGES, SyncFlag::Keep).unwrap();
        for r in [pkg("a", "1", 11), pkg("b", "1", 20)] {
            txn.push(r, &mut |c| changes.push(c)).unwrap();
        }
        txn.finish(&mut |c| changes.push(c)).unwrap();
    }
    let Change::Modified { new, old } = &changes[0] else {
        panic!("{changes:?}")
    };
    assert_eq!((new["sync"].clone(), old.get("sync")), (json!(1), None));
    let Change::Inserted(ins) = &changes[1] else {
        panic!("{changes:?}")
    };
    assert!(ins.get("sync").is_none());
    assert_eq!(
        db.count_selected(&schema::PACKAGES, Selection::Unsynced)
            .unwrap(),
        1
    );
    let waiting = db
        .rows_by_sync(&schema::PACKAGES, false, false, 10)
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0]["name"].clone(), waiting[0]["sync"].clone()),
        (json!("b"), json!(0))
    );

    // Unlimited: a changed waiting row becomes synced; the deletion reports the flag.
    let changes = sync(&mut db, vec![pkg("b", "2", 20)]);
    let flags: Vec<(String, Value)> = changes
        .iter()
        .map(|c| match c {
            Change::Inserted(r) => (
                "inserted".into(),
                r.get("sync").cloned().unwrap_or(Value::Null),
            ),
            Change::Modified { new, .. } => ("modified".into(), new["sync"].clone()),
            Change::Deleted(r) => (
                format!("deleted {}", r["name"].as_str().unwrap()),
                r["sync"].clone(),
            ),
        })
        .collect();
    assert!(
        flags.contains(&("inserted".into(), Value::Null)),
        "{flags:?}"
    );
    assert!(flags.contains(&("deleted a".into(), json!(1))), "{flags:?}");
    assert!(flags.contains(&("deleted b".into(), json!(0))), "{flags:?}");
    assert_eq!(
        db.count_selected(&schema::PACKAGES, Selection::Synced)
            .unwrap(),
        1
    );
    let only = db.select(&schema::PACKAGES, Selection::Synced).unwrap();
    assert_eq!(only[0]["version_"], json!("2"));
    assert_eq!(db.set_synced(&schema::PACKAGES, &only, false).unwrap(), 1);
    assert_eq!(
        db.count_selected(&schema::PACKAGES, Selection::Synced)
            .unwrap(),
        0
    );
    // The row checksum does not see the flag: the same row is unchanged.
    assert!(sync(&mut db, vec![pkg("b", "2", 20)]).is_empty());
    drop(db);

    // beta4's own layout: `sync` declared before `checksum`, rows it left waiting.
    let b4 = dir.path().join("beta4.db");
    {
        let c = rusqlite::Connection::open(&b4).unwrap();
        c.execute_batch("PRAGMA user_version = 1;").unwrap();
        for t in schema::TABLES {
            let sql = t
                .create_sql()
                .replace("checksum TEXT,", "sync INTEGER DEFAULT 0, checksum TEXT,");
            c.execute_batch(&sql).unwrap();
        }
        c.execute_batch(
            "INSERT INTO dbsync_packages (name, version_, architecture, type, path, sync, checksum) VALUES ('w', '1', 'amd64', 'deb', ' ', 0, 'x');",
        )
        .unwrap();
    }
    let said = RefCell::new(Vec::new());
    let mut db = DbSync::open(&b4, &|_, m| said.borrow_mut().push(m.to_string())).unwrap();
    assert!(said.borrow().is_empty(), "{said:?}");
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 1);
    assert_eq!(db.migrate_to_beta().unwrap(), 0);
    assert_eq!(
        db.count_selected(&schema::PACKAGES, Selection::Unsynced)
            .unwrap(),
        1,
        "beta4's flags are kept"
    );
}
