//! The `dbsync_hwinfo` collector on fixture trees (x86 captured from this machine, an
//! arm64 board without `cpu MHz`, an old kernel without `MemAvailable`), on malformed
//! input, and on this machine.

use std::path::Path;

use crate::helpers::fixture;
use serde_json::json;
use syscollector::sysinfo::hardware::{parse_cpuinfo, parse_meminfo, CpuInfo, MemInfo};
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

fn hw_row(root: &Path) -> Row {
    LinuxSysInfo::with_root(root, null_logger())
        .hardware()
        .unwrap()
}

fn row(serial: &str, cpu_name: &str, cores: u64, speed: f64, total_kib: u64, free_kib: u64) -> Row {
    let value = json!({
        "serial_number": serial,
        "cpu_name": cpu_name,
        "cpu_cores": cores,
        "cpu_speed": speed,
        "memory_total": total_kib * 1024,
        "memory_free": free_kib * 1024,
        "memory_used": (total_kib - free_kib) * 1024,
    });
    value.as_object().unwrap().clone()
}

fn write(root: &Path, file: &str, content: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn debian12_captured_from_this_machine() {
    // MemAvailable (24408596) is the free memory, even though MemFree is higher here.
    assert_eq!(
        hw_row(&fixture("debian12")),
        row(" ", "AMD EPYC", 2, 2597.0, 24684084, 24408596)
    );
}

#[test]
fn arm64_board_takes_the_speed_from_cpufreq() {
    // No "model name" and no "cpu MHz"; cpu0-3 max 1800000 kHz, cpu4-7 2256000 kHz.
    assert_eq!(
        hw_row(&fixture("ubuntu2204")),
        row(" ", " ", 8, 2256.0, 7902576, 7127664)
    );
}

#[test]
fn old_kernel_without_mem_available() {
    assert_eq!(
        hw_row(&fixture("legacy-centos6")),
        row(
            " ",
            "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz",
            1,
            2600.0,
            1922136,
            215108
        )
    );
}

#[test]
fn board_serials() {
    // Only the first word counts, an empty file gives "", no file gives " ".
    for (tree, serial) in [
        ("fedora40", "PF3XK2QW"),
        ("centos7", "To"),
        ("alpine319", ""),
        ("debian12", " "),
    ] {
        assert_eq!(hw_row(&fixture(tree))["serial_number"], serial, "{tree}");
    }
}

#[test]
fn tree_without_proc_gets_the_defaults() {
    assert_eq!(
        hw_row(&fixture("fedora40")),
        row("PF3XK2QW", " ", 0, 0.0, 1, 0)
    );
}

#[test]
fn parsers_on_the_fixture_files() {
    let text = std::fs::read_to_string(fixture("ubuntu2204/proc/cpuinfo")).unwrap();
    assert_eq!(
        parse_cpuinfo(&text),
        CpuInfo {
            model_name: None,
            cores: 8,
            mhz: None
        }
    );
    let text = std::fs::read_to_string(fixture("legacy-centos6/proc/cpuinfo")).unwrap();
    assert_eq!(
        parse_cpuinfo(&text),
        CpuInfo {
            model_name: Some("Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz".into()),
            cores: 1,
            mhz: Some(2600)
        }
    );
    let text = std::fs::read_to_string(fixture("ubuntu2204/proc/meminfo")).unwrap();
    assert_eq!(
        parse_meminfo(&text),
        MemInfo {
            total_kib: Some(7902576),
            available_kib: Some(7127664),
            free_kib: Some(5961340)
        }
    );
}

#[test]
fn cpufreq_only_from_cpu_n_directories() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    write(r, "proc/cpuinfo", "processor\t: 0\nprocessor\t: 1\n");
    let cpu = "sys/devices/system/cpu";
    write(
        r,
        &format!("{cpu}/cpu0/cpufreq/cpuinfo_max_freq"),
        "1500000\n",
    );
    write(r, &format!("{cpu}/cpu1/cpufreq/cpuinfo_max_freq"), "fast\n");
    write(r, &format!("{cpu}/cpu2/cpufreq/cpuinfo_max_freq"), "");
    write(
        r,
        &format!("{cpu}/cpu3/cpufreq/cpuinfo_max_freq"),
        "-9000000\n",
    );
    std::fs::create_dir_all(r.join(format!("{cpu}/cpu4"))).unwrap();
    // Not cpuN: ignored however large.
    write(
        r,
        &format!("{cpu}/cpufreq/cpufreq/cpuinfo_max_freq"),
        "9999999\n",
    );
    write(
        r,
        &format!("{cpu}/cpu5x/cpufreq/cpuinfo_max_freq"),
        "8888888\n",
    );
    write(
        r,
        &format!("{cpu}/cpu/cpufreq/cpuinfo_max_freq"),
        "7777777\n",
    );
    let hw = hw_row(r);
    assert_eq!(hw["cpu_speed"], json!(1500.0));
    assert_eq!(hw["cpu_cores"], json!(2));
}

#[test]
fn empty_files() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "proc/cpuinfo", "");
    write(root.path(), "proc/meminfo", "");
    write(root.path(), "sys/class/dmi/id/board_serial", "");
    assert_eq!(hw_row(root.path()), row("", " ", 0, 0.0, 1, 0));
}

#[test]
fn zero_total_and_available_above_total() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "proc/meminfo",
        "MemTotal: 0 kB\nMemFree: 5 kB\nMemAvailable: 7 kB\n",
    );
    let hw = hw_row(root.path());
    assert_eq!(hw["memory_total"], json!(1024));
    assert_eq!(hw["memory_free"], json!(7 * 1024));
    assert_eq!(hw["memory_used"], json!(0));
}

#[test]
fn unparseable_numbers_keep_the_other_fields() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "proc/cpuinfo",
        "processor : zero\nmodel name : Real CPU\ncpu MHz : unknown\n",
    );
    write(
        root.path(),
        "proc/meminfo",
        "MemTotal: lots kB\nMemFree: 100 kB\nMemAvailable: ?? kB\n",
    );
    let hw = hw_row(root.path());
    assert_eq!(hw["cpu_name"], "Real CPU");
    assert_eq!(hw["cpu_cores"], json!(0));
    assert_eq!(hw["cpu_speed"], json!(0.0));
    // MemTotal unreadable → 1 KiB; MemAvailable unreadable → MemFree.
    assert_eq!(hw["memory_total"], json!(1024));
    assert_eq!(hw["memory_free"], json!(100 * 1024));
    assert_eq!(hw["memory_used"], json!(0));
}

#[test]
fn truncated_files() {
    let root = tempfile::tempdir().unwrap();
    let cpuinfo = std::fs::read(fixture("debian12/proc/cpuinfo")).unwrap();
    // Cut in the middle of the first processor's flags.
    let cut = cpuinfo.windows(6).position(|w| w == b"flags\t").unwrap() + 40;
    write(root.path(), "proc/cpuinfo", &cpuinfo[..cut]);
    write(
        root.path(),
        "proc/meminfo",
        "MemTotal:       24684084 kB\nMemFr",
    );
    let hw = hw_row(root.path());
    assert_eq!(hw["cpu_name"], "AMD EPYC");
    assert_eq!(hw["cpu_cores"], json!(1));
    assert_eq!(hw["cpu_speed"], json!(2597.0));
    assert_eq!(hw["memory_total"], json!(24684084u64 * 1024));
    assert_eq!(hw["memory_free"], json!(0));
}

#[test]
fn binary_garbage() {
    let root = tempfile::tempdir().unwrap();
    let mut garbage: Vec<u8> = (0..=255u8).rev().cycle().take(256 * 1024).collect();
    garbage.extend_from_slice(b"\nprocessor\t: 3\n\xff:\xfe\n:\n");
    write(root.path(), "proc/cpuinfo", &garbage);
    write(root.path(), "proc/meminfo", &garbage[..4096]);
    write(
        root.path(),
        "sys/class/dmi/id/board_serial",
        b"\xff\xfeAB 12\n",
    );
    let hw = hw_row(root.path());
    assert_eq!(hw["cpu_cores"], json!(4));
    assert_eq!(hw["serial_number"], "\u{fffd}\u{fffd}AB");
    assert_eq!(hw["memory_total"], json!(1024));
}

#[test]
fn very_large_cpuinfo() {
    // A 4096-CPU machine: the real block of this machine, renumbered (about 5 MiB).
    let root = tempfile::tempdir().unwrap();
    let real = std::fs::read_to_string(fixture("debian12/proc/cpuinfo")).unwrap();
    let block = real.split("\n\n").next().unwrap();
    let mut text = String::new();
    for n in 0..4096 {
        text.push_str(&block.replacen("processor\t: 0", &format!("processor\t: {n}"), 1));
        text.push_str("\n\n");
    }
    assert!(text.len() > 4 << 20);
    write(root.path(), "proc/cpuinfo", &text);
    let hw = hw_row(root.path());
    assert_eq!(hw["cpu_cores"], json!(4096));
    assert_eq!(hw["cpu_name"], "AMD EPYC");
}

#[test]
fn serial_that_is_a_directory() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("sys/class/dmi/id/board_serial")).unwrap();
    // It opens but cannot be read: the agent's empty serial.
    assert_eq!(hw_row(root.path())["serial_number"], "");
}

#[test]
fn this_machine() {
    let hw = LinuxSysInfo::default().hardware().unwrap();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let values = |key: &str| -> Vec<String> {
        cpuinfo
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    match values("model name").last() {
        Some(name) => assert_eq!(hw["cpu_name"], name.as_str()),
        None => assert_eq!(hw["cpu_name"], " "),
    }
    assert_eq!(hw["cpu_cores"], json!(values("processor").len()));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(hw["memory_total"], json!(total_kib * 1024));
    let free = hw["memory_free"].as_u64().unwrap();
    let used = hw["memory_used"].as_u64().unwrap();
    assert!(free > 0 && free <= total_kib * 1024);
    assert_eq!(free + used, total_kib * 1024);
    assert!(hw["cpu_speed"].as_f64().unwrap() > 0.0);
    assert!(hw["serial_number"].is_string());
}
