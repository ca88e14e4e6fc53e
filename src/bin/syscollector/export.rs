//! `syscollector export --format cyclonedx`: the host's software as a CycloneDX 1.6 SBOM in
//! JSON, from the packages table (one component per package, each with its package URL)
//! and the OS table (the BOM's subject, `metadata.component`).
//!
//! Package URL types: `deb`, `rpm`, `apk`, `alpm` (pacman), `pypi`, `npm`, and `snap`
//! (not yet a registered purl type; no registered type fits snaps). The OS packages'
//! namespace is the distribution's id (`os_platform`), with `arch` and `distro` qualifiers.

use std::io::{Read, Write};

use packageurl::PackageUrl;
use serde_json::{json, Map, Value};
use syscollector::dbsync::schema;
use syscollector::{Logger, Row};

use crate::args::ExportArgs;
use crate::view;
use crate::Failure;

/// A field of a row as text; absent, empty and blank fields are `None`.
fn text(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `distro` qualifier: `debian-12`, `alpine-3.19`, ...
fn distro(os: &Row) -> Option<String> {
    let platform = text(os, "os_platform")?;
    let version = match (text(os, "os_major"), text(os, "os_minor")) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        (Some(major), None) => major,
        _ => text(os, "os_version")?,
    };
    Some(format!("{platform}-{version}"))
}

/// The package URL of a packages row, when its type is one the spec (or `snap`) knows.
fn purl(row: &Row, os: Option<&Row>) -> Option<String> {
    let ty = text(row, "type")?;
    let name = text(row, "name")?;
    let version = text(row, "version_");
    let arch = text(row, "architecture");
    let platform = os.and_then(|o| text(o, "os_platform"));
    let purl_type = match ty.as_str() {
        "deb" | "rpm" | "apk" | "pypi" | "npm" | "snap" => ty.as_str(),
        "pacman" => "alpm",
        _ => return None,
    };
    let (namespace, name) = match purl_type {
        "npm" => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, rest)) => (Some(format!("@{scope}")), rest.to_string()),
            None => (None, name),
        },
        "deb" | "rpm" | "apk" | "alpm" => (platform.clone(), name),
        _ => (None, name),
    };
    let mut p = PackageUrl::new(purl_type, name).ok()?;
    if let Some(ns) = namespace {
        p.with_namespace(ns).ok()?;
    }
    let mut epoch = None;
    if let Some(v) = version {
        // rpm carries the epoch as a qualifier; deb keeps it in the version.
        let v = match (purl_type, v.split_once(':')) {
            ("rpm", Some((e, rest))) if e.chars().all(|c| c.is_ascii_digit()) => {
                epoch = Some(e.to_string());
                rest.to_string()
            }
            _ => v,
        };
        p.with_version(v).ok()?;
    }
    if matches!(purl_type, "deb" | "rpm" | "apk" | "alpm" | "snap") {
        if let Some(a) = arch {
            p.add_qualifier("arch", a).ok()?;
        }
    }
    if let Some(e) = epoch {
        p.add_qualifier("epoch", e).ok()?;
    }
    if matches!(purl_type, "deb" | "rpm" | "apk" | "alpm") {
        if let Some(d) = os.and_then(distro) {
            p.add_qualifier("distro", d).ok()?;
        }
    }
    Some(p.to_string())
}

fn property(props: &mut Vec<Value>, name: &str, value: Option<String>) {
    if let Some(v) = value {
        props.push(json!({"name": format!("syscollector:{name}"), "value": v}));
    }
}

fn component(row: &Row, os: Option<&Row>, bom_ref: String) -> Value {
    let ty = text(row, "type").unwrap_or_default();
    let mut c = Map::new();
    let kind = if matches!(ty.as_str(), "pypi" | "npm") {
        "library"
    } else {
        "application"
    };
    c.insert("type".into(), kind.into());
    c.insert("bom-ref".into(), bom_ref.into());
    c.insert("name".into(), text(row, "name").unwrap_or_default().into());
    if let Some(v) = text(row, "version_") {
        c.insert("version".into(), v.into());
    }
    if let Some(v) = text(row, "vendor") {
        c.insert("publisher".into(), v.into());
    }
    if let Some(d) = text(row, "description") {
        c.insert("description".into(), d.into());
    }
    if let Some(p) = purl(row, os) {
        c.insert("purl".into(), p.into());
    }
    let mut props = Vec::new();
    property(&mut props, "package:type", Some(ty));
    for key in [
        "architecture",
        "path",
        "source",
        "installed",
        "category",
        "size",
    ] {
        property(&mut props, &format!("package:{key}"), text(row, key));
    }
    c.insert("properties".into(), props.into());
    Value::Object(c)
}

fn os_component(os: &Row) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), "operating-system".into());
    c.insert("bom-ref".into(), "os".into());
    let name = text(os, "os_platform")
        .or_else(|| text(os, "os_name"))
        .unwrap_or_else(|| "unknown".into());
    c.insert("name".into(), name.into());
    if let Some(v) = text(os, "os_version") {
        c.insert("version".into(), v.into());
    }
    if let Some(d) = text(os, "os_name") {
        c.insert("description".into(), d.into());
    }
    let mut props = Vec::new();
    for key in [
        "hostname",
        "architecture",
        "os_codename",
        "os_kernel_name",
        "os_kernel_release",
        "os_kernel_version",
    ] {
        property(&mut props, &format!("os:{key}"), text(os, key));
    }
    c.insert("properties".into(), props.into());
    Value::Object(c)
}

/// A random (version 4) UUID, from the kernel's random source.
fn uuid_v4() -> Option<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .ok()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// The SBOM of these package rows and OS row.
pub fn cyclonedx(packages: &[Row], os: Option<&Row>) -> Value {
    let mut components = Vec::with_capacity(packages.len());
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for row in packages {
        let base = purl(row, os).unwrap_or_else(|| {
            format!(
                "package:{}:{}",
                text(row, "type").unwrap_or_default(),
                text(row, "name").unwrap_or_default()
            )
        });
        // The same package can be installed at two paths: each component needs its own ref.
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        let bom_ref = if *n == 1 { base } else { format!("{base}#{n}") };
        components.push(component(row, os, bom_ref));
    }
    let mut metadata = Map::new();
    metadata.insert("timestamp".into(), crate::console::now().into());
    metadata.insert(
        "tools".into(),
        json!({"components": [{
            "type": "application",
            "name": "syscollector",
            "version": crate::version(),
        }]}),
    );
    if let Some(os) = os {
        metadata.insert("component".into(), os_component(os));
    }
    let mut bom = Map::new();
    bom.insert("bomFormat".into(), "CycloneDX".into());
    bom.insert("specVersion".into(), "1.6".into());
    if let Some(u) = uuid_v4() {
        bom.insert("serialNumber".into(), format!("urn:uuid:{u}").into());
    }
    bom.insert("version".into(), 1.into());
    bom.insert("metadata".into(), Value::Object(metadata));
    bom.insert("components".into(), components.into());
    Value::Object(bom)
}

pub fn export(a: ExportArgs, log: Logger) -> Result<(), Failure> {
    let tables = [&schema::PACKAGES, &schema::OS];
    let mut rows = match &a.db {
        Some(db) => crate::scan::read_db(db, &tables)?,
        None => crate::scan::scan_now(&a.root.root, &tables, log)?,
    };
    let os = rows.pop().unwrap_or_default();
    let packages = rows.pop().unwrap_or_default();
    let bom = cyclonedx(&packages, os.first());
    let text = serde_json::to_string_pretty(&bom)
        .map_err(|e| Failure::Job(format!("cannot serialize the SBOM: {e}")))?;
    match &a.output {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| Failure::Job(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}").and_then(|()| out.flush()) {
                Err(e) if !view::reader_gone(&e) => Err(Failure::Job(format!("cannot write: {e}"))),
                _ => Ok(()),
            }
        }
    }
}
