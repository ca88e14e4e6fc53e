//! Writes a system tree whose only package database is a dpkg status file of N synthetic
//! packages, for measuring `syscollector scan --root DIR --only packages` at any size:
//! `cargo run --release --example dpkg_fixture -- /tmp/root100k 100000`

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: dpkg_fixture ROOT [N]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    if let Err(e) = synthetic::dpkg_root(root.as_ref(), n) {
        eprintln!("cannot write {root}: {e}");
        std::process::exit(1);
    }
    println!("{root}: {n} dpkg packages");
}
