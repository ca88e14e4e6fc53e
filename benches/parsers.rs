//! Each parser of `src/sysinfo` on a worst-case input as large as its read limit (issue
//! 13.4: every parser linear in its input). The `/proc/net` tables, read up to 512 MiB,
//! are measured on 64 MiB (the time per byte is what shows linearity).
//!
//! Run with `cargo bench --bench parsers`; criterion reports the time per input and the
//! throughput in bytes per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use syscollector::sysinfo::browser_extensions::{chrome, firefox};
use syscollector::sysinfo::hardware::{parse_cpuinfo, parse_meminfo};
use syscollector::sysinfo::network::{addresses, parse_net_dev};
use syscollector::sysinfo::os::{parse_release, ReleaseFile};
use syscollector::sysinfo::parse::accounts::{parse_group, parse_passwd, parse_shadow};
use syscollector::sysinfo::ports::parse_socket_line;
use syscollector::sysinfo::processes::{parse_cmdline, parse_stat};
use syscollector::sysinfo::users::{sudoers, utmp};
use syscollector::Row;

const MIB: usize = 1 << 20;

/// `unit` repeated up to `size` bytes.
fn repeat(unit: &str, size: usize) -> String {
    unit.repeat(size / unit.len())
}

fn bench(c: &mut Criterion, name: &str, input: &str, run: impl Fn(&str)) {
    let mut group = c.benchmark_group("parsers");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function(name, |b| b.iter(|| run(black_box(input))));
    group.finish();
}

fn release(kind: ReleaseFile) -> impl Fn(&str) {
    move |text| {
        let mut row = Row::new();
        black_box(parse_release(kind, text, &mut row));
    }
}

fn parsers(c: &mut Criterion) {
    // Release files: 1 MiB.
    bench(
        c,
        "centos-release, 1 MiB of digits",
        &"7".repeat(MIB),
        release(ReleaseFile::Centos),
    );
    bench(
        c,
        "debian_version, 1 MiB of digits",
        &"7".repeat(MIB),
        release(ReleaseFile::Debian),
    );
    let mut lsb = String::from("DISTRIB_DESCRIPTION=");
    lsb.push_str(&"7".repeat(MIB - lsb.len()));
    bench(
        c,
        "lsb-release, 1 MiB description",
        &lsb,
        release(ReleaseFile::LsbRelease),
    );
    bench(
        c,
        "os-release, 1 MiB of keys",
        &repeat("K0123=v\n", MIB),
        release(ReleaseFile::OsRelease),
    );
    bench(
        c,
        "alpine-release, 1 MiB of 7.",
        &repeat("7.", MIB),
        release(ReleaseFile::Alpine),
    );
    bench(
        c,
        "fedora-release, 1 MiB of 7.",
        &repeat("7.", MIB),
        release(ReleaseFile::Fedora),
    );
    bench(
        c,
        "redhat-release, 1 MiB line",
        &format!("R release {}(", "7.".repeat(MIB / 2 - 8)),
        release(ReleaseFile::RedHat),
    );
    bench(
        c,
        "SuSE-release, 1 MiB of keys",
        &repeat("VERSION = 1\n", MIB),
        release(ReleaseFile::Suse),
    );
    bench(
        c,
        "codenames, 1 MiB of (",
        &repeat("(", MIB),
        release(ReleaseFile::Slackware),
    );

    // /proc/cpuinfo and /proc/meminfo: 64 MiB.
    bench(
        c,
        "cpuinfo, 64 MiB",
        &repeat(
            "processor\t: 0\nmodel name\t: x\ncpu MHz\t: 1.0\n",
            64 * MIB,
        ),
        |t| {
            black_box(parse_cpuinfo(t));
        },
    );
    bench(
        c,
        "meminfo, 64 MiB",
        &repeat("MemTotal: 1 kB\nMemAvailable: 1 kB\n", 64 * MIB),
        |t| {
            black_box(parse_meminfo(t));
        },
    );

    // /proc/<pid>/stat and cmdline: 16 MiB.
    let stat = format!(
        "1 ({}) S 0 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5",
        ") (".repeat(16 * MIB / 3 - 20)
    );
    bench(c, "stat, 16 MiB of parentheses", &stat, |t| {
        black_box(parse_stat(t));
    });
    bench(
        c,
        "cmdline, 16 MiB of arguments",
        &repeat("a\0", 16 * MIB),
        |t| {
            black_box(parse_cmdline(t));
        },
    );

    // Account files: 64 MiB.
    bench(
        c,
        "passwd, 64 MiB",
        &repeat("user:x:1000:1000:User:/home/user:/bin/sh\n", 64 * MIB),
        |t| {
            black_box(parse_passwd(t));
        },
    );
    let mut group = String::from("big:x:1:");
    group.push_str(&repeat("member,", 64 * MIB));
    bench(c, "group, 64 MiB member list", &group, |t| {
        black_box(parse_group(t));
    });
    bench(
        c,
        "shadow, 64 MiB",
        &repeat("user:$6$salt$hash:19000:0:99999:7:::\n", 64 * MIB),
        |t| {
            black_box(parse_shadow(t));
        },
    );
    bench(
        c,
        "sudoers, 4 MiB",
        &repeat("alice,bob,%adm ALL=(ALL) ALL\n", 4 * MIB),
        |t| {
            black_box(sudoers::parse_sudoers(t));
        },
    );
    let record = vec![7u8; utmp::RECORD_SIZE];
    let utmp_bytes = record.repeat(16 * MIB / utmp::RECORD_SIZE);
    let mut g = c.benchmark_group("parsers");
    g.throughput(Throughput::Bytes(utmp_bytes.len() as u64));
    g.bench_function("utmp, 16 MiB", |b| {
        b.iter(|| black_box(utmp::parse_utmp(black_box(&utmp_bytes))))
    });
    g.finish();

    // /proc/net: 64 MiB (read limit 512 MiB).
    bench(
        c,
        "net/dev, 64 MiB",
        &repeat("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 64 * MIB),
        |t| {
            black_box(parse_net_dev(t));
        },
    );
    let fib = repeat(
        "  |-- 10.0.0.1\n     /32 host LOCAL\n  |-- 10.0.0.0\n     /8 link UNICAST\n",
        64 * MIB,
    );
    bench(c, "fib_trie, 64 MiB", &fib, |t| {
        black_box(addresses::parse_fib_trie(t));
    });
    let tcp = repeat("   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 12345 1 0000000000000000 100 0 0 10 0\n", 64 * MIB);
    bench(c, "tcp, 64 MiB", &tcp, |t| {
        for line in t.lines() {
            black_box(parse_socket_line(line, false));
        }
    });

    // Browser files.
    let mut ini = String::new();
    while ini.len() < MIB {
        ini.push_str(&format!(
            "[Profile{}]\nPath=p{}\nIsRelative=1\n",
            ini.len(),
            ini.len()
        ));
    }
    bench(c, "profiles.ini, 1 MiB", &ini, |t| {
        black_box(firefox::parse_profiles_ini(t));
    });
    let manifest = format!(
        r#"{{"name":"n","version":"1","description":"{}"}}"#,
        "d".repeat(4 * MIB - 64)
    );
    bench(c, "chrome manifest, 4 MiB", &manifest, |t| {
        black_box(chrome::parse_manifest(t));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    targets = parsers
}
criterion_main!(benches);
