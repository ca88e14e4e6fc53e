//! Snap packages, asked from snapd as the agent does: `GET /v2/snaps` on its REST socket
//! `<root>/run/snapd.socket`, when `<root>/var/lib/snapd` exists.
//!
//! The request is plain HTTP/1.0 over the Unix socket (snapd then answers without
//! chunking; a chunked answer is decoded anyway), bounded in time and size. Each element
//! of `result` with a non-empty `name` and `version` is a row: vendor from
//! `publisher.display-name`, description from `summary`, size from `installed-size`, the
//! install date's `YYYY-MM-DDTHH:MM:SS` taken as UTC, path `/snap/<name>`, source
//! "snapcraft". snapd unreachable means no snap rows (logged at debug level), as in the
//! agent.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{iso8601, UNKNOWN};
use crate::sysinfo::LinuxSysInfo;
use crate::Row;

const SOCKET: &str = "/run/snapd.socket";
const TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_LIMIT: u64 = 64 << 20;

/// Rows of the snaps snapd reports.
pub fn collect(p: &LinuxSysInfo, each: &mut dyn FnMut(Row)) {
    let socket = p.path(SOCKET);
    let body = match get(&socket, "/v2/snaps") {
        Ok(body) => body,
        Err(e) => {
            p.debug(&format!(
                "Error retrieving packages using snap unix-socket {}: {e}",
                socket.display()
            ));
            return;
        }
    };
    if let Err(e) = parse_snaps(&body, each, &mut |m| p.debug(&format!("snap: {m}"))) {
        p.debug(&format!("snap: {e}"));
    }
}

/// The body of a successful `GET path` on the Unix socket.
pub fn get(socket: &Path, path: &str) -> Result<Vec<u8>, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .take(RESPONSE_LIMIT)
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    http_body(&response)
}

/// The body of a raw HTTP response with status 200 (chunked transfer decoded).
pub fn http_body(response: &[u8]) -> Result<Vec<u8>, String> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of HTTP headers")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let body = &response[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code = status.split_whitespace().nth(1).unwrap_or("");
    if code != "200" {
        return Err(format!("HTTP status {status:?}"));
    }
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("truncated chunk")?;
    }
}

/// Calls `each` with the row of every snap of a `/v2/snaps` answer; `skip` for elements
/// that make no row. Fails when the answer is not JSON with a `result` array.
pub fn parse_snaps(
    body: &[u8],
    each: &mut dyn FnMut(Row),
    skip: &mut dyn FnMut(String),
) -> Result<(), String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let result = doc
        .get("result")
        .and_then(Value::as_array)
        .ok_or("no result array")?;
    for snap in result {
        match snap_row(snap) {
            Some(row) => each(row),
            None => skip(format!(
                "skipping an entry without name or version: {}",
                snap.get("name").unwrap_or(&Value::Null)
            )),
        }
    }
    Ok(())
}

/// The row of one snap, `None` without a non-empty string name and version.
pub fn snap_row(info: &Value) -> Option<Row> {
    let name = info.get("name")?.as_str().filter(|s| !s.is_empty())?;
    let version = info.get("version")?.as_str().filter(|s| !s.is_empty())?;
    let vendor = info
        .get("publisher")
        .and_then(|p| p.get("display-name"))
        .and_then(Value::as_str)
        .unwrap_or(UNKNOWN);
    let installed = info
        .get("install-date")
        .and_then(Value::as_str)
        .and_then(parse_install_date)
        .map_or_else(|| UNKNOWN.to_string(), |t| iso8601(t as u32));
    let description = info
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or(UNKNOWN);
    let size = match info.get("installed-size") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => super::stoll(s).unwrap_or(0),
        _ => 0,
    };
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("path".into(), Value::from(format!("/snap/{name}")));
    row.insert("version_".into(), Value::from(version));
    row.insert("vendor".into(), Value::from(vendor));
    row.insert("installed".into(), Value::from(installed));
    row.insert("description".into(), Value::from(description));
    row.insert("size".into(), Value::from(size));
    row.insert("source".into(), Value::from("snapcraft"));
    row.insert("type".into(), Value::from("snap"));
    row.insert("priority".into(), Value::from(UNKNOWN));
    row.insert("multiarch".into(), Value::from(UNKNOWN));
    row.insert("architecture".into(), Value::from(UNKNOWN));
    row.insert("category".into(), Value::from(UNKNOWN));
    Some(row)
}

/// Seconds since the epoch of the `YYYY-MM-DDTHH:MM:SS` start of a date, taken as UTC
/// (fractions and zone offsets after it are ignored, as the agent's parse does).
pub fn parse_install_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut at = 0usize;
    let mut num = |max_digits: usize, sep: Option<u8>| -> Option<i64> {
        let start = at;
        while at < b.len() && at - start < max_digits && b[at].is_ascii_digit() {
            at += 1;
        }
        if at == start {
            return None;
        }
        let v = s[start..at].parse().ok()?;
        if let Some(sep) = sep {
            if b.get(at) != Some(&sep) {
                return None;
            }
            at += 1;
        }
        Some(v)
    };
    let year = num(4, Some(b'-'))?;
    let month = num(2, Some(b'-'))?;
    let day = num(2, Some(b'T'))?;
    let hour = num(2, Some(b':'))?;
    let min = num(2, Some(b':'))?;
    let sec = num(2, None)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_dates() {
        assert_eq!(
            parse_install_date("2021-08-20T00:10:20.074917847Z"),
            Some(1_629_418_220)
        );
        assert_eq!(
            parse_install_date("2016-05-17T09:36:53+12:00"),
            Some(1_463_477_813)
        );
        assert_eq!(parse_install_date("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_install_date("2021-13-20T00:10:20Z"), None);
        assert_eq!(parse_install_date("yesterday"), None);
        assert_eq!(parse_install_date(""), None);
    }

    #[test]
    fn rows_need_name_and_version() {
        assert!(snap_row(&serde_json::json!({"name": "a"})).is_none());
        assert!(snap_row(&serde_json::json!({"name": "", "version": "1"})).is_none());
        assert!(snap_row(&serde_json::json!({"name": 3, "version": "1"})).is_none());
        let row = snap_row(&serde_json::json!({
            "name": "a", "version": "1", "installed-size": "12x"
        }))
        .unwrap();
        assert_eq!(row["size"], 12);
        assert_eq!(row["installed"], " ");
        assert_eq!(row["vendor"], " ");
        assert_eq!(row["path"], "/snap/a");
    }

    #[test]
    fn http_bodies() {
        assert_eq!(
            http_body(b"HTTP/1.0 200 OK\r\nContent-Type: x\r\n\r\n{}").unwrap(),
            b"{}"
        );
        assert_eq!(
            http_body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1\r\n \r\n0\r\n\r\n")
                .unwrap(),
            b"{} "
        );
        assert!(http_body(b"HTTP/1.1 404 Not Found\r\n\r\n{}").is_err());
        assert!(http_body(b"garbage").is_err());
        assert!(
            http_body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\nab").is_err()
        );
    }
}
