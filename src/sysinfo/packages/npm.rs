//! npm packages: `package.json` of every directory in the `node_modules` of the agent's
//! npm prefixes (`/usr/lib`, `/usr/local/lib`, `/opt/local/lib`, every user's
//! `~/.npm-global/lib` and nvm installs `~/.nvm/versions/node/v*/lib`, and the macOS
//! ones), i.e. the globally installed packages.
//!
//! As the agent, only the first level is read (a scope directory such as `@types` has no
//! `package.json` of its own and makes no row); `name`, `version`, `description` and
//! `homepage` fill the row when they are strings; a `package.json` that is not JSON or has
//! no name or version makes no row. `path` is the `package.json` file.

use serde_json::Value;

use super::{expand, read_bytes, Ctx, UNKNOWN};
use crate::sysinfo::LinuxSysInfo;
use crate::Row;

/// The agent's npm prefixes.
pub const BASE_DIRS: &[&str] = &[
    "/Users/*/.npm-global/lib",
    "/Users/*/.nvm/versions/node/v*/lib",
    "/home/*/.npm-global/lib",
    "/home/*/.nvm/versions/node/v*/lib",
    "/opt/homebrew/lib",
    "/opt/local/lib",
    "/private/var/root/.nvm/versions/node/v*/lib",
    "/root/.nvm/versions/node/v*/lib",
    "/usr/lib",
    "/usr/local/lib",
];

const PACKAGE_JSON_LIMIT: u64 = 16 << 20;

/// The row of a `package.json` found at `path` (host path), `None` when it is not JSON
/// or lacks a string name or version.
pub fn package_row(bytes: &[u8], path: &str) -> Result<Option<Row>, String> {
    let json: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut row = Row::new();
    for (k, v) in [
        ("category", UNKNOWN),
        ("description", UNKNOWN),
        ("architecture", UNKNOWN),
        ("type", "npm"),
        ("source", UNKNOWN),
        ("path", path),
        ("priority", UNKNOWN),
        ("vendor", UNKNOWN),
        ("installed", UNKNOWN),
    ] {
        row.insert(k.into(), Value::from(v));
    }
    row.insert("size".into(), Value::from(0));
    for (key, column) in [
        ("description", "description"),
        ("homepage", "source"),
        ("name", "name"),
        ("version", "version_"),
    ] {
        if let Some(s) = json.get(key).and_then(Value::as_str) {
            row.insert(column.into(), Value::from(s));
        }
    }
    Ok((row.contains_key("name") && row.contains_key("version_")).then_some(row))
}

/// Rows of the global npm packages below the root.
pub fn collect(ctx: &mut Ctx<'_, '_>, each: &mut dyn FnMut(Row)) {
    let p = ctx.p;
    for pattern in BASE_DIRS {
        for base in expand(p, pattern) {
            let modules = format!("{base}/node_modules");
            let real = p.path(&modules);
            if !real.exists() {
                continue;
            }
            let rows = ctx.derived(&format!("npm:{modules}"), &[real], &mut || {
                scan(p, &modules)
            });
            for row in rows.iter() {
                each(row.clone());
            }
        }
    }
}

fn scan(p: &LinuxSysInfo, modules: &str) -> std::sync::Arc<Vec<Row>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(p.path(modules)) else {
        return std::sync::Arc::new(out);
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let path = format!("{modules}/{name}/package.json");
        let real = p.path(&path);
        if !real.exists() {
            continue;
        }
        match read_bytes(&real, PACKAGE_JSON_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|b| package_row(&b, &path))
        {
            Ok(Some(row)) => out.push(row),
            Ok(None) => p.debug(&format!("npm: {path} has no name or version")),
            Err(e) => p.debug(&format!("Error reading NPM package: {path}, {e}")),
        }
    }
    std::sync::Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_fields() {
        let row = package_row(
            br#"{"name":"npm","version":"9.2.0","description":"a package manager",
                 "homepage":"https://docs.npmjs.com/","author":"x"}"#,
            "/usr/lib/node_modules/npm/package.json",
        )
        .unwrap()
        .unwrap();
        assert_eq!(row["name"], "npm");
        assert_eq!(row["version_"], "9.2.0");
        assert_eq!(row["source"], "https://docs.npmjs.com/");
        assert_eq!(row["description"], "a package manager");
        assert_eq!(row["vendor"], " ");
        assert_eq!(row["type"], "npm");
        assert!(!row.contains_key("multiarch"));
    }

    #[test]
    fn non_strings_and_garbage() {
        assert!(package_row(br#"{"name":"a","version":1}"#, "/p")
            .unwrap()
            .is_none());
        assert!(package_row(b"{not json", "/p").is_err());
        assert!(package_row(b"\xff\xfe", "/p").is_err());
        let row = package_row(br#"{"name":"a","version":"1","homepage":["x"]}"#, "/p")
            .unwrap()
            .unwrap();
        assert_eq!(row["source"], " ");
    }
}
