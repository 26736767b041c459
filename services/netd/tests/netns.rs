//! netd against a real kernel, inside throwaway network namespaces: the bridge over two veth pairs, the
//! daemon reacting to link changes, and the table with its sets filtering bridged traffic.
//!
//! Needs root and `ip netns`; skipped with a printed reason otherwise. The host kernel lacks nft's
//! `queue` statement, so when a probe shows it missing, the table is loaded without its last (queue)
//! rule; the full table is loaded in the qemu lab.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mamori_netd::blocklist::Blocklist;
use mamori_netd::config::{self, Config};
use mamori_netd::firewall::{Firewall, TableOutcome};
use mamori_netd::netlink::{self, BridgeError, Converged};
use mamori_netd::nft::Nft;
use mamori_netd::ruleset::{ruleset, CHAIN, PURE_ACK_CHAIN};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(10);

/// A network namespace, deleted (with everything in it) on drop.
struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Result<Ns, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("needs root".into());
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("mnd-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let out =
            Command::new("ip").args(["netns", "add", &name]).output().map_err(|e| format!("cannot run ip: {e}"))?;
        if !out.status.success() {
            return Err(format!("`ip netns add` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let ns = Ns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        Ok(ns)
    }

    /// `ip -n NS ARGS`, which must succeed.
    fn ip(&self, args: &[&str]) -> Output {
        let out = Command::new("ip").args(["-n", &self.0]).args(args).output().unwrap();
        assert!(out.status.success(), "ip -n {} {args:?}: {}", self.0, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// `ip netns exec NS ARGS`, which must succeed; stdout.
    fn exec(&self, args: &[&str]) -> String {
        let out = Command::new("ip").args(["netns", "exec", &self.0]).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?} in {}: {}", self.0, String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn nft(&self) -> Nft {
        Nft::with_command("ip", ["netns", "exec", &self.0, "nft"].map(OsString::from).to_vec())
    }

    /// Runs `f` on a thread that has joined this namespace; sockets made there stay in it.
    fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let fd = File::open(&path).unwrap();
                // SAFETY: a valid namespace fd; only this thread's network namespace changes.
                let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap()
        })
    }

    /// `ip -j -d link show` as JSON, one object per link.
    fn links(&self) -> Vec<Value> {
        serde_json::from_slice(&self.ip(&["-j", "-d", "link", "show"]).stdout).unwrap()
    }

    fn link(&self, name: &str) -> Option<Value> {
        self.links().into_iter().find(|l| l["ifname"] == name)
    }

    fn carrier_changes(&self, name: &str) -> u64 {
        self.exec(&["cat", &format!("/sys/class/net/{name}/carrier_changes")]).trim().parse().unwrap()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
}

fn flags(link: &Value) -> Vec<String> {
    link["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
}

fn is_up(link: &Value) -> bool {
    flags(link).iter().any(|f| f == "UP")
}

/// Polls `cond` until it holds or the deadline passes.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config(text: &str) -> Config {
    config::parse(Path::new("test.toml"), text).unwrap().config
}

/// The bridge's namespace with `wan0` and `lan0`, whose veth peers are `wanp`/`lanp`, up, in `peers`
/// (or in the same namespace).
fn ports(br: &Ns, peers: Option<(&Ns, &Ns)>) {
    br.ip(&["link", "add", "wan0", "type", "veth", "peer", "name", "wanp"]);
    br.ip(&["link", "add", "lan0", "type", "veth", "peer", "name", "lanp"]);
    match peers {
        None => {
            br.ip(&["link", "set", "wanp", "up"]);
            br.ip(&["link", "set", "lanp", "up"]);
        }
        Some((a, b)) => {
            br.ip(&["link", "set", "wanp", "netns", &a.0]);
            br.ip(&["link", "set", "lanp", "netns", &b.0]);
            a.ip(&["link", "set", "wanp", "up"]);
            b.ip(&["link", "set", "lanp", "up"]);
        }
    }
}

fn converge_in(ns: &Ns, cfg: &Config) -> Result<Converged, BridgeError> {
    ns.enter(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (conn, handle, _) = rtnetlink::new_connection().unwrap();
            tokio::spawn(conn);
            // Explicit port names: the sysfs NIC scan for "auto" isn't consulted.
            netlink::converge(&handle, &cfg.bridge, Path::new("/nonexistent")).await
        })
    })
}

const PORTS: &str = "[bridge]\nwan = \"wan0\"\nlan = \"lan0\"\n";

fn assert_bridged(ns: &Ns) {
    let br = ns.link("mamori0").expect("bridge mamori0 exists");
    assert_eq!(br["linkinfo"]["info_kind"], "bridge");
    assert_eq!(br["linkinfo"]["info_data"]["stp_state"], 0);
    assert_eq!(br["linkinfo"]["info_data"]["forward_delay"], 0);
    assert!(is_up(&br), "bridge up: {br}");
    for port in ["wan0", "lan0"] {
        let l = ns.link(port).unwrap();
        assert_eq!(l["master"], "mamori0", "{port} enslaved");
        assert!(is_up(&l), "{port} up");
    }
}

#[test]
fn bridge_converges_once_and_a_rerun_changes_nothing() {
    let ns = match Ns::new("bridge") {
        Ok(ns) => ns,
        Err(reason) => return skip(&reason),
    };
    ports(&ns, None);
    let cfg = config(PORTS);

    let first = converge_in(&ns, &cfg).unwrap();
    assert!(!first.applied.is_empty());
    assert_bridged(&ns);
    wait_for("carrier on both ports", || {
        ["wan0", "lan0"].iter().all(|p| flags(&ns.link(p).unwrap()).iter().any(|f| f == "LOWER_UP"))
    });

    let index = |n: &str| ns.link(n).unwrap()["ifindex"].as_u64().unwrap();
    let before: Vec<(u64, u64)> =
        ["mamori0", "wan0", "lan0"].iter().map(|n| (index(n), ns.carrier_changes(n))).collect();
    let second = converge_in(&ns, &cfg).unwrap();
    assert_eq!(second.applied, vec![], "a rerun on a converged system does nothing");
    let after: Vec<(u64, u64)> =
        ["mamori0", "wan0", "lan0"].iter().map(|n| (index(n), ns.carrier_changes(n))).collect();
    assert_eq!(before, after, "same links, no carrier flaps");
    assert_bridged(&ns);
}

#[test]
fn bridge_reports_a_missing_port() {
    let ns = match Ns::new("missing") {
        Ok(ns) => ns,
        Err(reason) => return skip(&reason),
    };
    let e = converge_in(&ns, &config(PORTS)).unwrap_err();
    assert_eq!(e.to_string(), "WAN port wan0: no such interface");
    assert!(ns.link("mamori0").is_none(), "nothing is created for a bridge that can't be built");
}

/// The daemon, stopped with SIGTERM on drop; its log is shown if the test fails.
struct Daemon(Child, std::path::PathBuf);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.0.wait();
        if std::thread::panicking() {
            eprintln!("--- mamori-netd log\n{}", std::fs::read_to_string(&self.1).unwrap_or_default());
        }
    }
}

/// Reads sd_notify datagrams until one contains `line`; all of them so far.
fn notified(sock: &UnixDatagram, line: &str, seen: &mut Vec<String>) {
    let end = Instant::now() + DEADLINE;
    let mut buf = [0u8; 1024];
    loop {
        let left = end.checked_duration_since(Instant::now()).unwrap_or_else(|| panic!("no {line} in {seen:?}"));
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                let hit = msg.lines().any(|l| l == line);
                seen.push(msg);
                if hit {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("no {line} in {seen:?}")
            }
            Err(e) => panic!("notify socket: {e}"),
        }
    }
}

#[test]
fn daemon_notifies_systemd_and_restores_a_port_set_down_or_released() {
    let ns = match Ns::new("daemon") {
        Ok(ns) => ns,
        Err(reason) => return skip(&reason),
    };
    ports(&ns, None);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("netd.toml");
    std::fs::write(&cfg, format!("{PORTS}[blocklist]\nfiles = []\n")).unwrap();
    let log = dir.path().join("netd.log");
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_mamori-netd"), "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "200000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _daemon = Daemon(child, log);

    // READY=1 comes only after the first convergence: the bridge is complete by then.
    let mut seen = Vec::new();
    notified(&notify, "READY=1", &mut seen);
    assert_bridged(&ns);
    notified(&notify, "WATCHDOG=1", &mut seen);

    ns.ip(&["link", "set", "lan0", "down"]);
    wait_for("lan0 to be brought back up", || is_up(&ns.link("lan0").unwrap()));

    ns.ip(&["link", "set", "wan0", "nomaster"]);
    wait_for("wan0 to rejoin the bridge", || ns.link("wan0").unwrap()["master"] == "mamori0");

    // A port that disappears and comes back (driver reload, USB NIC) is picked up again.
    ns.ip(&["link", "del", "lan0"]);
    ns.ip(&["link", "add", "lan0", "type", "veth", "peer", "name", "lanp"]);
    wait_for("the new lan0 to be enslaved and up", || {
        ns.link("lan0").is_some_and(|l| l["master"] == "mamori0" && is_up(&l))
    });
    assert_bridged(&ns);
    // Still alive and petting the watchdog after all that.
    seen.clear();
    notified(&notify, "WATCHDOG=1", &mut seen);
}

/// Whether this kernel accepts nft's `queue` statement (the host's may not; the lab's does).
fn queue_supported(ns: &Ns) -> bool {
    let nft = |args: &str| {
        Command::new("ip")
            .args(["netns", "exec", &ns.0, "nft"])
            .args(args.split(' '))
            .output()
            .unwrap()
            .status
            .success()
    };
    let ok = nft("add table inet probe")
        && nft("add chain inet probe c { type filter hook forward priority 0 ; }")
        && nft("add rule inet probe c queue num 0 bypass");
    nft("delete table inet probe");
    ok
}

fn nft_available() -> bool {
    Command::new("nft").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Sum of the packet counters in the forward chain (only drop rules count).
fn dropped(ns: &Ns) -> u64 {
    let v: Value =
        serde_json::from_str(&ns.exec(&["nft", "-j", "list", "chain", "inet", "mamori", "forward"])).unwrap();
    let mut sum = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(p) = o.get("counter").and_then(|c| c.get("packets")).and_then(Value::as_u64) {
                    sum += p;
                }
                stack.extend(o.into_iter().map(|(_, v)| v));
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    sum
}

fn set_elements(ns: &Ns, set: &str) -> Vec<String> {
    use mamori_netd::intervals::Interval;
    use std::net::{Ipv4Addr, Ipv6Addr};
    let show = |e: &Value| {
        Interval::<Ipv4Addr>::from_json(e)
            .map(|i| i.to_string())
            .or_else(|| Interval::<Ipv6Addr>::from_json(e).map(|i| i.to_string()))
            .unwrap_or_else(|| format!("unreadable {e}"))
    };
    let v: Value = serde_json::from_str(&ns.exec(&["nft", "-j", "list", "set", "inet", "mamori", set])).unwrap();
    let set = v["nftables"].as_array().unwrap().iter().find_map(|o| o.get("set")).unwrap().clone();
    let mut out: Vec<String> = set["elem"].as_array().map(|a| a.iter().map(show).collect()).unwrap_or_default();
    out.sort();
    out
}

/// Handles of the table, chain and rules: they change if the table is reloaded.
fn handles(ns: &Ns) -> Vec<u64> {
    let v: Value =
        serde_json::from_str(&ns.exec(&["nft", "-a", "-j", "-t", "list", "table", "inet", "mamori"])).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.as_object()?.values().next()?.get("handle")?.as_u64())
        .collect()
}

fn blocklist(text: &str) -> Blocklist {
    Blocklist::from_nets(mamori_netd::blocklist::parse(text).0)
}

/// Sends `payload` from `tx` to `to` until `rx` receives it or the deadline passes.
fn delivered(tx: &UdpSocket, rx: &UdpSocket, to: &str, payload: &[u8]) -> bool {
    rx.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 64];
    while Instant::now() < end {
        tx.send_to(payload, to).unwrap();
        while let Ok(n) = rx.recv(&mut buf) {
            if &buf[..n] == payload {
                return true;
            }
        }
    }
    false
}

/// Sends until the drop counters move, then checks nothing arrived.
fn blocked(ns: &Ns, tx: &UdpSocket, rx: &UdpSocket, to: &str, payload: &[u8]) -> bool {
    let before = dropped(ns);
    tx.send_to(payload, to).unwrap();
    wait_for("the drop counter to count the packet", || dropped(ns) > before);
    rx.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    let mut got = false;
    while let Ok(n) = rx.recv(&mut buf) {
        got |= &buf[..n] == payload;
    }
    rx.set_nonblocking(false).unwrap();
    !got
}

/// A converged bridge (`PORTS`, two queues) between host `wanp` (192.0.2.1, 2001:db8::1) and host `lanp`
/// (192.0.2.2, 2001:db8::2), each in its own namespace.
/// `Err` (a reason to skip) without root, `ip netns` or nft.
fn bridged_hosts(tag: &str) -> Result<(Ns, Ns, Ns, Config), String> {
    if !nft_available() {
        return Err("nft is not installed".into());
    }
    let (br, ha, hb) = (Ns::new(tag)?, Ns::new(&format!("{tag}a"))?, Ns::new(&format!("{tag}b"))?);
    ports(&br, Some((&ha, &hb)));
    ha.ip(&["addr", "add", "192.0.2.1/24", "dev", "wanp"]);
    hb.ip(&["addr", "add", "192.0.2.2/24", "dev", "lanp"]);
    ha.ip(&["addr", "add", "2001:db8::1/64", "dev", "wanp", "nodad"]);
    hb.ip(&["addr", "add", "2001:db8::2/64", "dev", "lanp", "nodad"]);
    let cfg = config(&format!("{PORTS}[ruleset]\nqueue_count = 2\n"));
    converge_in(&br, &cfg).unwrap();
    Ok((br, ha, hb, cfg))
}

/// Removes the queue rule, which the ruleset puts last.
fn take_queue_rule(definition: &mut nftables::schema::Nftables<'static>) {
    let last = definition.objects.to_mut().pop().unwrap();
    assert!(serde_json::to_string(&last).unwrap().contains("\"queue\""), "the last rule is the queue rule");
}

#[test]
fn table_loads_and_sets_filter_bridged_traffic_and_update_in_place() {
    let (br, ha, hb, cfg) = match bridged_hosts("fw") {
        Ok(t) => t,
        Err(reason) => return skip(&reason),
    };

    let mut definition = ruleset(&cfg, cfg.ruleset.queues());
    if !queue_supported(&br) {
        eprintln!("this kernel has no nft queue statement: loading the table without its queue rule");
        take_queue_rule(&mut definition);
    }
    let mut fw = Firewall::with_definition(br.nft(), &cfg, definition);

    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Created);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Unchanged);

    let rx4 = hb.enter(|| UdpSocket::bind("192.0.2.2:7000")).unwrap();
    let tx4 = ha.enter(|| UdpSocket::bind("192.0.2.1:7001")).unwrap();
    let rx6 = hb.enter(|| UdpSocket::bind("[2001:db8::2]:7000")).unwrap();
    let tx6 = ha.enter(|| UdpSocket::bind("[2001:db8::1]:7001")).unwrap();
    assert!(delivered(&tx4, &rx4, "192.0.2.2:7000", b"v4 before"), "bridged IPv4 passes an empty blocklist");
    assert!(delivered(&tx6, &rx6, "[2001:db8::2]:7000", b"v6 before"), "bridged IPv6 passes an empty blocklist");

    // Block the receivers: in place, without reloading the table.
    let handles_before = handles(&br);
    let o = fw.sync_sets(&blocklist("192.0.2.2\n198.51.100.0/24\n2001:db8::2/128\n")).unwrap();
    assert_eq!((o.added, o.removed), (3, 0));
    assert_eq!(handles(&br), handles_before, "the table was not reloaded");
    assert_eq!(set_elements(&br, "block4"), ["192.0.2.2", "198.51.100.0/24"]);
    assert_eq!(set_elements(&br, "block6"), ["2001:db8::2"]);
    assert!(blocked(&br, &tx4, &rx4, "192.0.2.2:7000", b"v4 blocked"), "a blocked IPv4 destination is dropped");
    assert!(blocked(&br, &tx6, &rx6, "[2001:db8::2]:7000", b"v6 blocked"), "a blocked IPv6 destination is dropped");

    // Same list again: nothing to do.
    let o = fw.sync_sets(&blocklist("192.0.2.2\n198.51.100.0/24\n2001:db8::2\n")).unwrap();
    assert_eq!((o.added, o.removed), (0, 0));

    // Unblock the receivers; neighbours merge into one range.
    let o = fw.sync_sets(&blocklist("198.51.100.0/24\n198.51.101.0/24\n2001:db8:1::/48\n")).unwrap();
    assert_eq!((o.added, o.removed), (2, 3));
    assert_eq!(set_elements(&br, "block4"), ["198.51.100.0/23"]);
    assert_eq!(set_elements(&br, "block6"), ["2001:db8:1::/48"]);
    assert_eq!(handles(&br), handles_before, "still the same table");
    assert!(delivered(&tx4, &rx4, "192.0.2.2:7000", b"v4 after"), "unblocked IPv4 passes again");
    assert!(delivered(&tx6, &rx6, "[2001:db8::2]:7000", b"v6 after"), "unblocked IPv6 passes again");

    // A rule deleted by hand: the table is replaced, and the set elements survive the replace.
    let chain: Value =
        serde_json::from_str(&br.exec(&["nft", "-a", "-j", "list", "chain", "inet", "mamori", "forward"])).unwrap();
    let rule = chain["nftables"].as_array().unwrap().iter().find_map(|o| o.get("rule")).unwrap()["handle"].to_string();
    br.exec(&["nft", "delete", "rule", "inet", "mamori", "forward", "handle", &rule]);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Replaced);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Unchanged);
    assert_eq!(set_elements(&br, "block4"), ["198.51.100.0/23"]);
    assert_eq!(set_elements(&br, "block6"), ["2001:db8:1::/48"]);
    assert!(delivered(&tx4, &rx4, "192.0.2.2:7000", b"v4 after replace"));

    // The table deleted by hand: recreated, and a sync refills it.
    br.exec(&["nft", "delete", "table", "inet", "mamori"]);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Created);
    let o = fw.sync_sets(&blocklist("192.0.2.2\n")).unwrap();
    assert_eq!((o.added, o.removed), (1, 0));
    assert!(blocked(&br, &tx4, &rx4, "192.0.2.2:7000", b"v4 blocked again"));
}

/// (packets, bytes) summed over the counters of one chain.
fn chain_counters(ns: &Ns, chain: &str) -> (u64, u64) {
    let v: Value = serde_json::from_str(&ns.exec(&["nft", "-j", "list", "chain", "inet", "mamori", chain])).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.get("rule"))
        .flat_map(|r| r["expr"].as_array().unwrap().iter())
        .filter_map(|e| e.get("counter"))
        .fold((0, 0), |(p, b), c| (p + c["packets"].as_u64().unwrap(), b + c["bytes"].as_u64().unwrap()))
}

/// Sends `len` bytes from `client` to the listener's side and reads the server's 2-byte answer.
fn transfer(client: &mut TcpStream, listener: &TcpListener, len: usize) {
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let (mut conn, _) = listener.accept().unwrap();
            let mut got = 0;
            let mut buf = [0u8; 65536];
            while got < len {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed after {got} of {len} bytes");
                got += n;
            }
            conn.write_all(b"ok").unwrap();
        });
        client.write_all(&vec![b'x'; len]).unwrap();
        let mut ok = [0u8; 2];
        client.read_exact(&mut ok).unwrap();
        assert_eq!(&ok, b"ok");
        server.join().unwrap();
    });
}

#[test]
fn pure_acks_skip_the_queue_and_every_data_byte_reaches_it() {
    let (br, ha, hb, cfg) = match bridged_hosts("ack") {
        Ok(t) => t,
        Err(reason) => return skip(&reason),
    };

    // In place of the queue rule (which this kernel may lack, and which would pass everything
    // unseen without a listener) a counter: what it counts is what inspect would be given.
    let mut definition = ruleset(&cfg, cfg.ruleset.queues());
    take_queue_rule(&mut definition);
    let objects = definition.objects.to_mut();
    let counter: Value = serde_json::json!({"add": {"rule": {"family": "inet", "table": "mamori", "chain": CHAIN,
        "expr": [{"counter": null}]}}});
    objects.push(serde_json::from_value(counter).unwrap());
    let mut fw = Firewall::with_definition(br.nft(), &cfg, definition);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Created);
    assert_eq!(fw.ensure_table().unwrap(), TableOutcome::Unchanged, "the listing of the pure-ACK chain compares equal");

    const LEN: usize = 2 << 20;
    for server in ["192.0.2.2:7100", "[2001:db8::2]:7100"] {
        let (acks_before, queued_before) = (chain_counters(&br, PURE_ACK_CHAIN), chain_counters(&br, CHAIN));
        let listener = hb.enter(|| TcpListener::bind(server)).unwrap();
        let to: std::net::SocketAddr = server.parse().unwrap();
        let mut stream = ha.enter(|| TcpStream::connect_timeout(&to, DEADLINE)).unwrap();
        transfer(&mut stream, &listener, LEN);
        drop(stream);
        let acks = chain_counters(&br, PURE_ACK_CHAIN);
        let queued = chain_counters(&br, CHAIN);
        let (ack_packets, ack_bytes) = (acks.0 - acks_before.0, acks.1 - acks_before.1);
        let (queued_packets, queued_bytes) = (queued.0 - queued_before.0, queued.1 - queued_before.1);
        // The receiver acknowledged 2 MB: those ACKs went round the queue, each only headers.
        assert!(ack_packets >= 10, "{server}: {ack_packets} pure ACKs skipped the queue");
        assert!(ack_bytes <= ack_packets * 80, "{server}: {ack_bytes} bytes in {ack_packets} pure ACKs");
        // Every data byte (and the handshake, FINs and the answer) still reaches the queue.
        assert!(queued_bytes >= LEN as u64 + 2, "{server}: only {queued_bytes} bytes reached the queue position");
        assert!(queued_packets >= 3, "{server}: {queued_packets} packets reached the queue position");
    }
}
