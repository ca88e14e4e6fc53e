//! The whole system as separate processes over a real socket: the agent
//! (`syscollector run`, reading a fixture system tree) and the reference manager
//! (`syscollector-manager serve`), with faults. Each scenario waits until the manager's
//! store holds exactly the agent's inventory: the same ids in the same indices, with the
//! same documents (less the time they were sent).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::copy_tree;
use parking_lot::Mutex;
use serde_json::Value;
use syscollector::dbsync::{schema::TABLES, DbSync};
use syscollector::inventory::events::{self, Operation};
use syscollector::manager::DocStore;

/// Scenarios start real processes; one at a time keeps them within the machine.
static SERIAL: Mutex<()> = parking_lot::const_mutex(());

const COLLECTORS: &str = "os,hardware,processes,users,groups,packages,ports";
const TCP_HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn kill9(&mut self) {
        // SAFETY: kill(2) of our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for tree in ["debian12", "users-debian12", "pkg-debian"] {
            copy_tree(&fixtures.join(tree), &root);
        }
        // No socket yet: an empty kernel socket table.
        fs::create_dir_all(root.join("proc/net")).unwrap();
        fs::write(root.join("proc/net/tcp"), TCP_HEADER).unwrap();
        fs::create_dir_all(dir.path().join("agent")).unwrap();
        World { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    fn agent_dir(&self) -> PathBuf {
        self.dir.path().join("agent")
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("m.sock")
    }
    fn store(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    fn manager(&self, faults: &[&str]) -> Proc {
        let _ = fs::remove_file(self.socket());
        let child = Command::new(env!("CARGO_BIN_EXE_syscollector-manager"))
            .arg("serve")
            .arg("--socket")
            .arg(self.socket())
            .arg("--db")
            .arg(self.store())
            .arg("--events")
            .arg(self.dir.path().join("events.jsonl"))
            .args(faults)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.socket().exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Proc(child)
    }

    fn agent(&self) -> Proc {
        self.agent_with(COLLECTORS, &[])
    }

    fn agent_with(&self, collectors: &str, extra: &[&str]) -> Proc {
        let child = Command::new(env!("CARGO_BIN_EXE_syscollector"))
            .arg("run")
            .arg("--dir")
            .arg(self.agent_dir())
            .arg("--root")
            .arg(self.root())
            .arg("--manager")
            .arg(self.socket())
            .args([
                "--only",
                collectors,
                "--interval",
                "2",
                "--sync-interval",
                "1",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc(child)
    }

    /// The C host (c_tests/host.c, a stand-in for wazuh-modulesd) driving the library
    /// through dlopen against the manager; it reads this machine, so only collectors whose
    /// rows do not change by themselves are used.
    fn c_host(&self, collectors: &str) -> Proc {
        let (host, agent_info) = c_host_binary();
        // The agent's identity, as agent-info provides it to the library inside the agent.
        let control = self.agent_dir().join("agent-metadata");
        std::fs::create_dir_all(self.agent_dir()).unwrap();
        std::fs::write(
            &control,
            "agent_id=007\nagent_name=e2e\nagent_version=v5.0.0\narchitecture=x86_64\n\
             hostname=e2e-host\nos_name=Debian GNU/Linux\nos_type=linux\nos_platform=debian\n\
             os_version=12\ngroups=default\n",
        )
        .unwrap();
        // The provider keeps its shared-memory file below the working directory (the
        // agent's home), as the real one does.
        std::fs::create_dir_all(self.agent_dir().join("var/run")).unwrap();
        let child = Command::new(host)
            .current_dir(self.agent_dir())
            .arg("--agent-info")
            .arg(agent_info)
            .arg("--agent-metadata")
            .arg(&control)
            .arg("--lib")
            .arg(library())
            .arg("--db")
            .arg(self.agent_dir())
            .arg("--socket")
            .arg(self.socket())
            .args(["--sync-interval", "1", "--collectors", collectors])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc(child)
    }

    /// index → id → document (without `state.modified_at`), as the agent holds it.
    fn agent_view(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        let mut out: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let Ok(db) = DbSync::try_open(&self.agent_dir().join("local.db")) else {
            return out;
        };
        for t in TABLES {
            for row in db.select_all(t).unwrap_or_default() {
                let st = events::stateful(t, &row, Operation::Create);
                out.entry(t.index.to_string())
                    .or_default()
                    .insert(st.id, comparable(Value::Object(st.document)));
            }
        }
        out
    }

    /// The same, as the manager's store holds it.
    fn manager_view(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        let mut out: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let Ok(store) = DocStore::open(&self.store()) else {
            return out;
        };
        for t in TABLES {
            for (_, id, _, doc) in store.dump(t.index, None).unwrap_or_default() {
                let doc: Value = serde_json::from_str(&doc).unwrap_or(Value::Null);
                out.entry(t.index.to_string())
                    .or_default()
                    .insert(id, comparable(doc));
            }
        }
        out
    }

    /// Waits until both views are equal and not empty; returns the last difference.
    fn converge(&self, within: Duration) -> Result<usize, String> {
        self.converge_to(within, None)
    }

    /// As [`converge`], to exactly `expected` documents when given.
    fn converge_to(&self, within: Duration, expected: Option<usize>) -> Result<usize, String> {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        while Instant::now() < deadline {
            let a = self.agent_view();
            let m = self.manager_view();
            let n: usize = a.values().map(BTreeMap::len).sum();
            if n > 0 && a == m && expected.is_none_or(|e| e == n) {
                return Ok(n);
            }
            last = describe(&a, &m);
            std::thread::sleep(Duration::from_millis(300));
        }
        Err(last)
    }
}

/// libsyscollector.so of this build: next to the directory of the test binaries.
fn library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("libsyscollector.so"))
        .unwrap()
}

/// The C host, compiled once with the system's C compiler against the committed header.
/// The C host and the stand-in agent-info library it loads (as wazuh-modulesd loads
/// libagent_info.so, which depends on the metadata provider's libagent_sync_protocol.so),
/// compiled once per test process.
fn c_host_binary() -> (PathBuf, PathBuf) {
    static BUILT: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let dir =
                std::env::temp_dir().join(format!("syscollector-e2e-host-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let cc = |args: &[&std::ffi::OsStr]| {
                let status = Command::new("cc")
                    .args(["-Wall", "-Wextra", "-Werror", "-O1", "-I"])
                    .arg(root.join("include"))
                    .args(args)
                    .status()
                    .expect("a C compiler");
                assert!(status.success(), "{args:?} does not compile");
            };
            let provider = dir.join("libagent_sync_protocol.so");
            cc(&[
                "-shared".as_ref(),
                "-fPIC".as_ref(),
                "-o".as_ref(),
                provider.as_os_str(),
                root.join("c_tests/metadata_provider.c").as_os_str(),
                "-lpthread".as_ref(),
            ]);
            let agent_info = dir.join("libagent_info.so");
            cc(&[
                "-shared".as_ref(),
                "-fPIC".as_ref(),
                "-Wl,-rpath,$ORIGIN".as_ref(),
                "-o".as_ref(),
                agent_info.as_os_str(),
                root.join("c_tests/agent_info.c").as_os_str(),
                "-L".as_ref(),
                dir.as_os_str(),
                "-lagent_sync_protocol".as_ref(),
                "-lpthread".as_ref(),
            ]);
            let host = dir.join("host");
            cc(&[
                "-o".as_ref(),
                host.as_os_str(),
                root.join("c_tests/host.c").as_os_str(),
                "-ldl".as_ref(),
                "-lpthread".as_ref(),
            ]);
            (host, agent_info)
        })
        .clone()
}

fn comparable(mut doc: Value) -> Value {
    if let Some(state) = doc.get_mut("state").and_then(Value::as_object_mut) {
        state.remove("modified_at");
    }
    doc
}

fn describe(
    a: &BTreeMap<String, BTreeMap<String, Value>>,
    m: &BTreeMap<String, BTreeMap<String, Value>>,
) -> String {
    let mut out = String::new();
    for index in a.keys().chain(m.keys()) {
        let (x, y) = (a.get(index), m.get(index));
        if x != y {
            let xn = x.map(BTreeMap::len).unwrap_or(0);
            let yn = y.map(BTreeMap::len).unwrap_or(0);
            let differing = x
                .into_iter()
                .flatten()
                .filter(|(id, d)| y.and_then(|y| y.get(*id)) != Some(*d))
                .count();
            out.push_str(&format!(
                "{index}: agent {xn}, manager {yn}, {differing} differ; "
            ));
        }
    }
    out
}

/// A peer on the manager's socket that sends every connected agent random bytes and
/// frames of garbage (for either instance, some cut short), every 20 ms, until stopped.
struct HostilePeer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl HostilePeer {
    fn start(socket: &Path, seed: u64) -> HostilePeer {
        use std::io::Write;
        let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut rng = syscollector::manager::Rng::new(seed);
            let mut conns = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((s, _)) = listener.accept() {
                    // Never block on a reader that stopped reading: drop what does not fit.
                    let _ = s.set_nonblocking(true);
                    conns.push(s);
                }
                for s in &mut conns {
                    let len = (rng.unit() * 400.0) as usize;
                    let mut bytes: Vec<u8> = (0..len).map(|_| (rng.unit() * 256.0) as u8).collect();
                    if rng.unit() < 0.5 {
                        let location = if rng.unit() < 0.5 {
                            "syscollector"
                        } else {
                            "syscollector_vd"
                        };
                        let mut frame = syscollector::manager::framing::Frame {
                            loc: b's',
                            location: location.into(),
                            payload: bytes,
                        }
                        .encode();
                        if rng.unit() < 0.3 {
                            frame.truncate(frame.len() / 2);
                        }
                        bytes = frame;
                    }
                    let _ = s.write_all(&bytes);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        HostilePeer { stop, thread }
    }

    /// Stops the peer; its socket file goes with it when the real manager rebinds.
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

fn add_process(root: &Path, pid: u32) {
    let d = root.join(format!("proc/{pid}"));
    fs::create_dir_all(&d).unwrap();
    fs::write(
        d.join("stat"),
        format!("{pid} (e2e-sleep) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 500 1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"),
    )
    .unwrap();
    fs::write(d.join("cmdline"), b"sleep\x00600\x00").unwrap();
}

#[test]
fn converges_and_follows_changes_on_the_host() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&[]);
    let _a = w.agent();
    let n = w
        .converge(Duration::from_secs(60))
        .expect("first convergence");
    assert!(n > 20, "{n} documents");
    assert!(fs::read_to_string(w.dir.path().join("events.jsonl"))
        .unwrap_or_default()
        .contains("\"module\":\"inventory\""));

    // A process starts and a user is added on the host: the next cycle reaches the manager.
    add_process(&w.root(), 4242);
    let passwd = w.root().join("etc/passwd");
    let mut text = fs::read_to_string(&passwd).unwrap();
    text.push_str("e2e:x:4242:4242:End to end:/home/e2e:/bin/sh\n");
    fs::write(&passwd, text).unwrap();
    // And a listening TCP port opens (127.0.0.1:8080).
    fs::write(
        w.root().join("proc/net/tcp"),
        format!("{TCP_HEADER}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 100 0 0 10 0\n"),
    )
    .unwrap();
    w.converge_to(Duration::from_secs(60), Some(n + 3))
        .expect("after changes");
    let m = w.manager_view();
    assert!(m["wazuh-states-inventory-processes"]
        .values()
        .any(|d| d["process"]["pid"] == "4242"));
    assert!(m["wazuh-states-inventory-users"]
        .values()
        .any(|d| d["user"]["name"] == "e2e"));
    assert!(m["wazuh-states-inventory-ports"]
        .values()
        .any(|d| d["source"]["port"] == 8080 && d["file"]["inode"] == 424242));

    // The process ends: deleted on the manager too.
    fs::remove_dir_all(w.root().join("proc/4242")).unwrap();
    w.converge_to(Duration::from_secs(60), Some(n + 2))
        .expect("after the process ended");
}

#[test]
fn converges_over_a_lossy_link() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&[
        "--seed",
        "7",
        "--drop-in",
        "0.1",
        "--drop-out",
        "0.1",
        "--dup-in",
        "0.05",
        "--dup-out",
        "0.05",
        "--reorder-out",
        "0.05",
        "--reorder-in",
        "0.05",
        "--delay-ms",
        "20",
        "--delay-fraction",
        "0.1",
    ]);
    let _a = w.agent();
    w.converge(Duration::from_secs(120))
        .expect("converges despite loss");
}

#[test]
fn converges_after_the_manager_was_offline() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&["--offline-secs", "5"]);
    let _a = w.agent();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        w.manager_view().is_empty(),
        "nothing may be stored while offline"
    );
    w.converge(Duration::from_secs(60))
        .expect("converges once back");
}

#[test]
fn converges_across_manager_restarts_mid_session() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _a = w.agent();
    for i in 0..4 {
        let mut m = w.manager(&["--delay-ms", "2"]);
        std::thread::sleep(Duration::from_millis(700 + 300 * i));
        m.kill9();
    }
    let _m = w.manager(&[]);
    w.converge(Duration::from_secs(90))
        .expect("converges after restarts");
}

#[test]
fn converges_after_the_agent_is_killed_during_sync() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&["--delay-ms", "1"]);
    let mut rng = syscollector::manager::Rng::new(99);
    for pid in 0..10u32 {
        // Something changes each time, so every restart has new differences to send.
        add_process(&w.root(), 5000 + pid);
        let mut a = w.agent();
        std::thread::sleep(Duration::from_millis(300 + (rng.unit() * 1500.0) as u64));
        a.kill9();
    }
    let _a = w.agent();
    let n = w
        .converge(Duration::from_secs(90))
        .expect("converges after kills");
    let m = w.manager_view();
    let procs = &m["wazuh-states-inventory-processes"];
    for pid in 0..10u32 {
        let pid = (5000 + pid).to_string();
        assert!(
            procs.values().any(|d| d["process"]["pid"] == pid.as_str()),
            "process {pid} missing"
        );
    }
    assert!(n > 30);
}

#[test]
fn hostile_manager_does_not_crash_the_agent() {
    let _one = SERIAL.lock();
    let w = World::new();
    let peer = HostilePeer::start(&w.socket(), 5);
    let mut a = w.agent();
    std::thread::sleep(Duration::from_secs(5));
    assert!(a.0.try_wait().unwrap().is_none(), "agent died");
    peer.stop();
    // A real manager takes over; the agent delivers everything.
    let _m = w.manager(&[]);
    w.converge(Duration::from_secs(60))
        .expect("converges after the hostile peer");
    a.kill9();
}

#[test]
fn integrity_check_repairs_a_damaged_manager_store() {
    let _one = SERIAL.lock();
    let w = World::new();
    let mut m = w.manager(&[]);
    let _a = w.agent_with(COLLECTORS, &["--integrity", "2"]);
    let n = w
        .converge(Duration::from_secs(60))
        .expect("first convergence");
    // The manager loses documents behind the agent's back.
    m.kill9();
    {
        let conn = rusqlite::Connection::open(w.store()).unwrap();
        let gone = conn
            .execute(
                "DELETE FROM \"wazuh-states-inventory-users\" \
                 WHERE id IN (SELECT id FROM \"wazuh-states-inventory-users\" LIMIT 3)",
                [],
            )
            .unwrap();
        assert_eq!(gone, 3);
    }
    let _m = w.manager(&[]);
    assert!(w.manager_view() != w.agent_view());
    // No change on the host: only the integrity check can bring the documents back.
    w.converge_to(Duration::from_secs(60), Some(n))
        .expect("the checksum mismatch triggers a full resend");
}

#[test]
fn disabling_a_collector_cleans_its_data_on_both_sides() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&[]);
    {
        let _a = w.agent();
        w.converge(Duration::from_secs(60))
            .expect("first convergence");
        assert!(!w.manager_view()["wazuh-states-inventory-processes"].is_empty());
    }
    // Restarted without the processes collector.
    let _a = w.agent_with("os,hardware,users,groups,packages,ports", &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = w.manager_view();
        let a = w.agent_view();
        if !m.contains_key("wazuh-states-inventory-processes")
            && !a.contains_key("wazuh-states-inventory-processes")
            && a == m
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", describe(&a, &m));
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn c_host_converges_over_a_lossy_link() {
    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&[
        "--seed",
        "11",
        "--drop-in",
        "0.1",
        "--drop-out",
        "0.1",
        "--dup-in",
        "0.05",
        "--dup-out",
        "0.05",
    ]);
    let _h = w.c_host("os,users,groups,packages");
    let n = w
        .converge(Duration::from_secs(120))
        .expect("the C host's inventory reaches the manager");
    assert!(n > 10);
}

#[test]
fn c_host_survives_a_hostile_manager_and_stops_on_sigterm() {
    let _one = SERIAL.lock();
    let w = World::new();
    let peer = HostilePeer::start(&w.socket(), 17);
    let mut h = w.c_host("os,hardware");
    std::thread::sleep(Duration::from_secs(5));
    assert!(h.0.try_wait().unwrap().is_none(), "the C host died");
    peer.stop();
    // SIGTERM: the host stops the module and exits cleanly, soon.
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(h.0.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = h.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// The reference manager in beta4 mode over the socket (issue 12 point 5): two beta agent
/// instances on two connections at once, each with batches and a Processing wait longer
/// than its timeout; each final EndAck goes back on its own connection, and the store
/// holds every document.
#[test]
fn beta4_manager_over_the_socket() {
    use std::sync::Arc;
    use syscollector::generation::Generation;
    use syscollector::manager::link::AgentLink;
    use syscollector::sync_protocol::{
        AgentMetadata, Item, ItemOperation, Mode, PersistentQueue, Settings, SyncOption,
        SyncProtocol,
    };

    let _one = SERIAL.lock();
    let w = World::new();
    let _m = w.manager(&["--generation", "beta4", "--processing-ms", "700"]);
    let agent = |module: &'static str, generation: Generation, n: usize| {
        let link = AgentLink::new(&w.socket());
        let queue =
            PersistentQueue::open(&w.dir.path().join(format!("{module}-{n}.db")), &|_| {}).unwrap();
        let proto = Arc::new(
            SyncProtocol::new(
                Settings {
                    module: module.into(),
                    timeout: Duration::from_millis(300),
                    retries: 1,
                    max_eps: 0,
                    end_delay: Duration::ZERO,
                },
                queue,
                link.transport(module),
                Arc::new(|| {
                    Some(AgentMetadata {
                        agent_id: "009".into(),
                        groups: vec!["default".into()],
                        cluster_name: Some("wazuh".into()),
                        cluster_node: Some("node01".into()),
                        ..AgentMetadata::default()
                    })
                }),
                syscollector::null_logger(),
            )
            .with_generation(generation),
        );
        let weak = Arc::downgrade(&proto);
        link.set_reply_sink(Arc::new(move |_module: &str, buf: &[u8]| {
            if let Some(p) = weak.upgrade() {
                p.parse_response(buf);
            }
        }));
        for i in 0..n {
            proto.persist(
                Item::new(
                    format!("{module}-{i}"),
                    ItemOperation::Create,
                    if module.ends_with("_vd") {
                        "wazuh-states-inventory-packages"
                    } else {
                        "wazuh-states-inventory-processes"
                    },
                    serde_json::json!({"n": i, "pad": "z".repeat(600)}).to_string(),
                    1,
                ),
                false,
            );
        }
        (link, proto)
    };
    let (_l1, regular) = agent("syscollector", Generation::Beta, 300);
    let (_l2, vd) = agent("syscollector_vd", Generation::Beta, 120);
    let t = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| regular.synchronize(Mode::ModuleDelta, SyncOption::Sync));
        let b = s.spawn(|| vd.synchronize(Mode::ModuleDelta, SyncOption::VdFirst));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.is_ok(), "{a:?}");
    assert!(b.is_ok(), "{b:?}");
    // Both waited through the manager's indexing, longer than their own timeout.
    assert!(t.elapsed() >= Duration::from_millis(700));
    let store = DocStore::open(&w.store()).unwrap();
    assert_eq!(
        store
            .dump("wazuh-states-inventory-processes", Some("syscollector"))
            .unwrap()
            .len(),
        300
    );
    assert_eq!(
        store
            .dump("wazuh-states-inventory-packages", Some("syscollector_vd"))
            .unwrap()
            .len(),
        120
    );
}
