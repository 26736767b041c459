//! `mamori-inspect run` on a real bridge in network namespaces of the host:
//! a LAN client and a server on either side of a bridge whose forwarded
//! traffic iptables sends to NFQUEUE (the host kernel has no nftables
//! `queue`; the appliance's own ruleset is exercised in the VM lab,
//! tests/lab). Skipped, with the reason, when not root or tools are missing.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mamori_tls::build::client_hello_record;

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

struct Lab {
    tag: String,
    dir: PathBuf,
    inspect: Option<Child>,
}

fn sh(args: &[&str]) -> bool {
    Command::new(args[0]).args(&args[1..]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

impl Lab {
    fn new(tag: &str) -> Option<Lab> {
        // This lab's workers spin before they sleep (busy_poll_us, lands in
        // [inline]); the web lab's sleep at once: both ways of waiting for
        // packets carry the tests' traffic.
        Lab::with_config(tag, "busy_poll_us = 100\n")
    }

    fn with_config(tag: &str, extra_toml: &str) -> Option<Lab> {
        let tag = format!("{tag}{}", std::process::id() % 10000);
        if !sh(&["ip", "netns", "add", &format!("a{tag}")]) {
            eprintln!("skipped: cannot create network namespaces (needs root and iproute2)");
            return None;
        }
        if !Command::new("iptables").arg("--version").output().is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: iptables is not installed");
            let _ = sh(&["ip", "netns", "del", &format!("a{tag}")]);
            return None;
        }
        let dir = std::env::temp_dir().join(format!("mamori-inline-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let lab = Lab { tag, dir, inspect: None };
        let (a, c, s) = (lab.ns('a'), lab.ns('c'), lab.ns('s'));
        for n in [&c, &s] {
            assert!(sh(&["ip", "netns", "add", n]));
        }
        let run = |args: &str| {
            let v: Vec<&str> = args.split_whitespace().collect();
            assert!(sh(&v), "{args}");
        };
        for n in [&a, &c, &s] {
            run(&format!("ip -n {n} link set lo up"));
        }
        run(&format!("ip link add eth0 netns {c} type veth peer name lan0 netns {a}"));
        run(&format!("ip link add eth0 netns {s} type veth peer name wan0 netns {a}"));
        run(&format!("ip -n {a} link add br0 type bridge stp_state 0 forward_delay 0"));
        for i in ["lan0", "wan0"] {
            run(&format!("ip -n {a} link set {i} master br0"));
            run(&format!("ip -n {a} link set {i} up"));
        }
        run(&format!("ip -n {a} link set br0 up"));
        run(&format!("ip -n {c} addr add 10.77.0.2/24 dev eth0"));
        run(&format!("ip -n {s} addr add 10.77.0.1/24 dev eth0"));
        run(&format!("ip -n {c} link set eth0 up"));
        run(&format!("ip -n {s} link set eth0 up"));
        let _ = sh(&["modprobe", "br_netfilter"]);
        run(&format!(
            "ip netns exec {a} sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1"
        ));
        // The appliance's ruleset, in iptables words: condemned flows drop,
        // cleared flows skip the queue, the rest is queued (bypass when
        // nobody listens); marks given with verdicts go to the connection.
        run(&format!("ip netns exec {a} iptables -A FORWARD -m connmark --mark 0x2/0x2 -j DROP"));
        run(&format!("ip netns exec {a} iptables -A FORWARD -m connmark --mark 0x1/0x1 -j ACCEPT"));
        run(&format!("ip netns exec {a} iptables -A FORWARD -j NFQUEUE --queue-balance 0:1 --queue-bypass"));
        for m in ["0x1/0x1", "0x2/0x2"] {
            run(&format!(
                "ip netns exec {a} iptables -t mangle -A POSTROUTING -m mark --mark {m} -j CONNMARK --set-xmark {m}"
            ));
        }
        std::fs::write(
            lab.dir.join("lab.rules"),
            concat!(
                "drop http any any -> any any (msg:\"LAB eicar download\"; flow:established,to_client; file.data; content:\"X5O!P%@AP[4|5c|PZX54(P^)7CC)7}\"; sid:1; rev:1;)\n",
                "reject tcp any any -> any any (msg:\"LAB reject me\"; flow:established; content:\"MAMORI-REJECT-ME\"; sid:2; rev:1;)\n",
                "drop http any any -> any any (msg:\"LAB blocked url\"; flow:established,to_server; http.uri; content:\"/blocked-url\"; sid:3; rev:1;)\n",
                "reject tcp any any -> any any (msg:\"LAB deep marker\"; flow:established,to_client; content:\"MAMORI-DEEP-MARKER\"; sid:4; rev:1;)\n",
            ),
        )
        .unwrap();
        let d = lab.dir.display();
        std::fs::write(
            lab.dir.join("inspect.toml"),
            format!(
                "state_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\n[queues]\nfirst = 0\ncount = 2\n\
                 [eve]\npath = \"{d}/eve.json\"\n[ips]\nrules = [\"{d}/lab.rules\"]\n\
                 [inline]\nstream_depth = 65536\nblock_page_contact = \"IT担当: 03-1234-5678\"\n{extra_toml}"
            ),
        )
        .unwrap();
        Some(lab)
    }

    fn ns(&self, which: char) -> String {
        format!("{which}{}", self.tag)
    }

    fn start_inspect(&mut self) {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns('a'), env!("CARGO_BIN_EXE_mamori-inspect"), "run", "--config"])
            .arg(self.dir.join("inspect.toml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("inspect.log")).unwrap())
            .spawn()
            .expect("start mamori-inspect");
        self.inspect = Some(child);
        let ok = wait_for(Duration::from_secs(20), || self.control("ping").as_deref() == Some("pong"));
        let log = std::fs::read_to_string(self.dir.join("inspect.log")).unwrap_or_default();
        assert!(ok, "inspect did not answer ping: {log}");
    }

    fn kill_inspect(&mut self) {
        if let Some(mut c) = self.inspect.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn control(&self, cmd: &str) -> Option<String> {
        let mut s = std::os::unix::net::UnixStream::connect(self.dir.join("control.sock")).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        s.write_all(format!("{cmd}\n").as_bytes()).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out.trim().to_string())
    }

    /// The scheduling policy of each queue worker thread of inspect, from
    /// /proc (0 ordinary, 1 SCHED_FIFO).
    fn worker_policies(&self) -> Vec<u64> {
        let Some(pid) = self.inspect.as_ref().map(|c| c.id()) else { return Vec::new() };
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
            .filter_map(|st| {
                let (comm, rest) = st.split_once(" (")?.1.rsplit_once(") ")?;
                // Field 41 of stat is the policy; `rest` starts at field 3.
                comm.starts_with("queue-").then(|| rest.split_whitespace().nth(38)?.parse().ok())?
            })
            .collect()
    }

    fn stat(&self, key: &str) -> u64 {
        let s = self.control("stats").unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        v[key].as_u64().unwrap_or(0)
    }

    /// Run `f` on a thread inside namespace `which`.
    fn within<T: Send>(&self, which: char, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.ns(which));
        std::thread::scope(|s| {
            s.spawn(|| {
                let fd = std::fs::File::open(&path).unwrap();
                // SAFETY: setns on a valid namespace fd affects only this thread.
                assert_eq!(unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
                f()
            })
            .join()
            .unwrap()
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.kill_inspect();
        for w in ['a', 'c', 's'] {
            let _ = sh(&["ip", "netns", "del", &self.ns(w)]);
        }
    }
}

fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A server in the server namespace answering each connection with
/// `response` (written in one go) after reading the request head. The
/// listener is bound before this returns.
fn serve(lab: &Lab, port: u16, response: Vec<u8>) -> std::thread::JoinHandle<()> {
    let l = lab.within('s', || TcpListener::bind(("0.0.0.0", port)).unwrap());
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            let resp = response.clone();
            std::thread::spawn(move || {
                let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = c.write_all(&resp);
                let _ = c.shutdown(Shutdown::Write);
                let _ = c.read(&mut buf);
            });
        }
    })
}

fn http_response(body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

/// GET `path` from the server, from the client namespace; the whole answer
/// or the error.
fn get(lab: &Lab, port: u16, path: &str) -> Result<Vec<u8>, std::io::Error> {
    get_host(lab, port, "lab.example", path)
}

/// GET / on a connection opened earlier, from the client namespace.
fn get_on(lab: &Lab, mut s: TcpStream) -> Result<Vec<u8>, std::io::Error> {
    lab.within('c', move || {
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).map(|_| out)
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn inline_bridge_passes_blocks_resets_bypasses_and_fails_open() {
    let Some(mut lab) = Lab::new("t") else { return };
    let big: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
    serve(&lab, 80, http_response(b"hello"));
    serve(&lab, 81, http_response(EICAR));
    serve(&lab, 82, http_response(&big));
    // A marker 40 KB into a body, within the inspection depth.
    let mut deep = vec![b'.'; 60_000];
    deep[40_000..40_018].copy_from_slice(b"MAMORI-DEEP-MARKER");
    serve(&lab, 83, http_response(&deep));
    lab.start_inspect();

    // Traffic passes.
    let r = get(&lab, 80, "/").expect("plain GET");
    assert!(text(&r).ends_with("hello"), "{}", text(&r));

    // A drop rule on the download: the client gets the Japanese block page.
    let r = get(&lab, 81, "/eicar.com").expect("blocked GET still answers");
    let page = text(&r);
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
    assert!(page.contains("ブロック") && page.contains("LAB eicar download") && page.contains("03-1234-5678"));
    assert!(!page.contains("EICAR-STANDARD"), "the file must not get through");

    // A drop rule on the request URL: block page, the server never answers.
    let r = get(&lab, 80, "/blocked-url").expect("blocked request answers");
    assert!(text(&r).contains("LAB blocked url"), "{}", text(&r));

    // reject: the client's connection is reset.
    let reset = lab.within('c', || {
        let mut s = TcpStream::connect("10.77.0.1:80").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"MAMORI-REJECT-ME\r\n\r\n").unwrap();
        let mut buf = [0u8; 64];
        s.read(&mut buf)
    });
    assert!(
        matches!(&reset, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a reset, got {reset:?}"
    );
    // The reset is injected before the worker counts it: wait for the count.
    assert!(wait_for(Duration::from_secs(5), || lab.stat("rejects") >= 1), "reject counted");

    // Past the inspection depth the flow is bypassed, and that is counted.
    let before = lab.stat("flows_bypassed");
    let r = get(&lab, 82, "/big").expect("big GET");
    assert!(r.ends_with(&big[big.len() - 1000..]), "download complete");
    assert!(wait_for(Duration::from_secs(5), || lab.stat("flows_bypassed") > before), "bypass counted");
    // veth hands over TCP in GSO super-packets; they are inspected whole.
    assert!(lab.stat("gso_packets") > 0, "no GSO packet seen: {:?}", lab.control("stats"));

    // reject in the middle of a download: the resets carry the blocked
    // packet's sequence number, so they must reach the ends after the
    // packets accepted before it (whose verdicts may still be held for
    // the batch), or the client drops its reset as out of window and hangs.
    // The download's GSO packets follow its request (a small packet), so
    // they are inspected in slices; the reject lands in one of them and
    // must still reset the connection.
    let sliced = lab.stat("sliced_packets");
    let r = get(&lab, 83, "/deep");
    assert!(
        matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a reset, got {:?}; {:?}",
        r.as_ref().map(|b| b.len()),
        lab.control("stats")
    );
    assert!(lab.stat("sliced_packets") > sliced, "the download was not sliced: {:?}", lab.control("stats"));
    // How long packets waited in the engine for their verdict is reported.
    let s: serde_json::Value = serde_json::from_str(&lab.control("stats").unwrap_or_default()).unwrap_or_default();
    let held = s["verdict_hold_us"]["buckets"].as_array().map(|b| b.iter().filter_map(|n| n.as_u64()).sum::<u64>());
    assert!(held.is_some_and(|n| n > 0) && s["verdict_hold_us"]["p99"].as_u64().is_some(), "{s}");

    // Rules reload under traffic: a connection open across the reload lives on.
    let open = lab.within('c', || TcpStream::connect("10.77.0.1:80").unwrap());
    assert!(lab.control("reload").unwrap().starts_with("ok loaded 4 of 4 rules"));
    let r = get_on(&lab, open);
    assert!(text(&r.expect("open connection survives reload")).ends_with("hello"));

    // Killed: traffic flows uninspected (queue bypass)...
    lab.kill_inspect();
    let r = get(&lab, 81, "/eicar.com").expect("fail-open GET");
    assert!(text(&r).contains("EICAR-STANDARD"), "without inspect the bridge still forwards");
    // ...and a restart resumes inspection.
    lab.start_inspect();
    let r = get(&lab, 81, "/eicar.com").expect("blocked again");
    assert!(text(&r).starts_with("HTTP/1.1 403"), "{}", text(&r));
    eprintln!("stats: {}", lab.control("stats").unwrap_or_default());
    let blocked_alert = || {
        let eve = std::fs::read_to_string(lab.dir.join("eve.json")).unwrap_or_default();
        eve.lines().any(|l| l.contains("\"event_type\":\"alert\"") && l.contains("\"action\":\"blocked\""))
    };
    assert!(wait_for(Duration::from_secs(5), blocked_alert), "blocked alert in EVE");
    let eve = std::fs::read_to_string(lab.dir.join("eve.json")).unwrap();

    // A clean stop (SIGTERM) writes the open flows' events before exiting.
    let flows_before = eve.lines().filter(|l| l.contains("\"event_type\":\"flow\"")).count();
    let mut child = lab.inspect.take().unwrap();
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let st = child.wait().unwrap();
    assert!(st.success(), "clean exit on SIGTERM: {st:?}");
    let eve = std::fs::read_to_string(lab.dir.join("eve.json")).unwrap();
    let flows_after = eve.lines().filter(|l| l.contains("\"event_type\":\"flow\"")).count();
    assert!(flows_after > flows_before, "flow events written at shutdown ({flows_before} -> {flows_after})");
}

fn dns_query(name: &str) -> Vec<u8> {
    let mut m = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend_from_slice(l.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

/// Ask the "DNS server" (nobody listens there) for `name`; the answer's
/// rcode and A records, or None when nothing came back.
fn resolve(lab: &Lab, name: &str) -> Option<(u8, Vec<[u8; 4]>)> {
    lab.within('c', || {
        let s = std::net::UdpSocket::bind("10.77.0.2:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.send_to(&dns_query(name), "10.77.0.1:53").unwrap();
        let mut buf = [0u8; 512];
        let n = s.recv(&mut buf).ok()?;
        let m = &buf[..n];
        let an = u16::from_be_bytes([m[6], m[7]]);
        let mut out = Vec::new();
        if an > 0 && n >= 4 {
            out.push([m[n - 4], m[n - 3], m[n - 2], m[n - 1]]);
        }
        Some((m[3] & 0x0f, out))
    })
}

fn bundle(version: u64, list: &str) -> Vec<u8> {
    let mut b = mamori_intel::IntelBuilder::new();
    b.add_source("lab-list", &mamori_intel::FeedFormat::Own { default: None }, list).unwrap();
    b.build_bundle(version, 1_700_000_000, &mamori_intel::SigningKey::from_bytes(&[7; 32]))
}

#[test]
fn web_protection_sinkholes_blocks_pages_resets_and_reloads_bundles() {
    let key = mamori_intel::SigningKey::from_bytes(&[7; 32]);
    let public = hex::encode(key.verifying_key().as_bytes());
    let dir = std::env::temp_dir().join(format!("mamori-intel-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = "domain evil.example threat:phishing\n\
                url-prefix lab.example/listed threat:malware_distribution\n\
                domain games.example category:games\n\
                domain news.example category:sns\n";
    std::fs::write(dir.join("current.bundle"), bundle(1, list)).unwrap();
    let extra = format!(
        "[intel]\nbundle = \"{}\"\npublic_key = \"{public}\"\n[web]\ndns_block = \"sinkhole\"\n[web.categories]\ngames = \"block\"\n[web.apps]\nBitTorrent = \"block\"\n",
        dir.join("current.bundle").display()
    );
    let Some(mut lab) = Lab::with_config("w", &extra) else { return };
    serve(&lab, 80, http_response(b"hello"));
    serve(&lab, 443, http_response(b"tls?"));
    lab.start_inspect();

    // A listed domain in DNS gets the sinkhole address, from the bridge.
    assert_eq!(resolve(&lab, "www.evil.example"), Some((0, vec![[0, 0, 0, 0]])));
    // A resolver asks A then AAAA from one socket: both are answered.
    let both = lab.within('c', || {
        let s = std::net::UdpSocket::bind("10.77.0.2:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut q = dns_query("mail.evil.example");
        s.send_to(&q, "10.77.0.1:53").unwrap();
        let n = q.len();
        q[n - 3] = 28; // AAAA
        q[1] = 0xce;
        s.send_to(&q, "10.77.0.1:53").unwrap();
        let mut buf = [0u8; 512];
        (0..2).filter(|_| s.recv(&mut buf).is_ok()).count()
    });
    assert_eq!(both, 2, "both queries of one socket answered");
    // Not listed: the query goes on to the server (nobody answers there).
    assert_eq!(resolve(&lab, "fine.example"), None);

    // A listed URL over HTTP gets the Japanese block page naming the threat.
    let page = text(&get_host(&lab, 80, "lab.example", "/listed/payload.exe").unwrap());
    assert!(page.starts_with("HTTP/1.1 403") && page.contains("ブロック") && page.contains("lab-list"), "{page}");
    assert!(page.contains("http://lab.example/listed/payload.exe"), "the page names what it blocked: {page}");
    // Other URLs of that host pass.
    assert!(text(&get_host(&lab, 80, "lab.example", "/other").unwrap()).ends_with("hello"));

    // A listed SNI over TLS is reset.
    let reset = lab.within('c', || {
        let mut s = TcpStream::connect("10.77.0.1:443").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(&client_hello_record("login.evil.example")).unwrap();
        let mut buf = [0u8; 64];
        s.read(&mut buf)
    });
    assert!(matches!(&reset, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset), "{reset:?}");

    // A category set to block is blocked; one left at "log" passes and is logged.
    let page = text(&get_host(&lab, 80, "www.games.example", "/").unwrap());
    assert!(page.starts_with("HTTP/1.1 403") && page.contains("ゲーム"), "{page}");
    assert!(text(&get_host(&lab, 80, "news.example", "/").unwrap()).ends_with("hello"));
    assert!(wait_for(Duration::from_secs(5), || lab.stat("intel_matched") >= 1));

    // An app set to block (BitTorrent, named by its handshake) is reset.
    serve(&lab, 6881, http_response(b"peer"));
    let reset = lab.within('c', || {
        let mut s = TcpStream::connect("10.77.0.1:6881").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut hs = b"\x13BitTorrent protocol".to_vec();
        hs.extend_from_slice(&[0u8; 8]);
        hs.extend_from_slice(&[0xab; 20]);
        hs.extend_from_slice(b"-qB4500-abcdefghijkl");
        s.write_all(&hs).unwrap();
        let mut buf = [0u8; 64];
        s.read(&mut buf)
    });
    assert!(matches!(&reset, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset), "{reset:?}");
    let app_event = || {
        let eve = std::fs::read_to_string(lab.dir.join("eve.json")).unwrap_or_default();
        eve.lines().any(|l| l.contains("\"event_type\":\"app\"") && l.contains("BitTorrent"))
    };
    assert!(wait_for(Duration::from_secs(5), app_event), "app event in EVE");

    // A new bundle under traffic: an open connection lives on, the new
    // entry applies.
    let open = lab.within('c', || TcpStream::connect("10.77.0.1:80").unwrap());
    std::fs::write(dir.join("current.bundle"), bundle(2, &format!("{list}domain fresh.example threat:botnet_c2\n")))
        .unwrap();
    let r = lab.control("reload").unwrap();
    assert!(r.starts_with("ok") && r.contains("intel version 2"), "{r}");
    assert_eq!(resolve(&lab, "c2.fresh.example"), Some((0, vec![[0, 0, 0, 0]])));
    let r = get_on(&lab, open);
    assert!(text(&r.expect("connection open across the bundle swap")).ends_with("hello"));
    // An older or forged bundle is refused and the current one stays.
    std::fs::write(dir.join("current.bundle"), bundle(1, "domain other.example threat:phishing\n")).unwrap();
    assert!(lab.control("reload").unwrap().starts_with("error"));
    assert_eq!(resolve(&lab, "c2.fresh.example"), Some((0, vec![[0, 0, 0, 0]])));
    let intel_event = || {
        let eve = std::fs::read_to_string(lab.dir.join("eve.json")).unwrap_or_default();
        eve.lines().any(|l| l.contains("\"intel\"") && l.contains("\"list\":\"lab-list\""))
    };
    assert!(wait_for(Duration::from_secs(5), intel_event), "intel match in EVE");

    // This lab's workers sleep, so realtime = "auto" (the default) applies:
    // the queue workers run at real-time
    // priority while the CPU has idle time, turn ordinary while it stays
    // saturated, and go back once it has slack again.
    let realtime = |lab: &Lab, want: u64| {
        wait_for(Duration::from_secs(15), || {
            lab.stat("realtime_workers") == want
                && lab.worker_policies().iter().filter(|&&p| p == 1).count() == want as usize
        })
    };
    assert!(realtime(&lab, 2), "workers real-time: {:?} {:?}", lab.worker_policies(), lab.control("stats"));
    {
        let spin = std::sync::atomic::AtomicBool::new(true);
        std::thread::scope(|s| {
            for _ in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
                s.spawn(|| {
                    while spin.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            let turned = realtime(&lab, 0);
            spin.store(false, std::sync::atomic::Ordering::Relaxed);
            assert!(turned, "saturated CPU, workers still real-time: {:?}", lab.control("stats"));
        });
    }
    assert!(realtime(&lab, 2), "slack again, workers not real-time: {:?}", lab.worker_policies());
    assert!(lab.stat("scheduling_changes") >= 4, "{:?}", lab.control("stats"));
}

fn get_host(lab: &Lab, port: u16, host: &str, path: &str) -> Result<Vec<u8>, std::io::Error> {
    lab.within('c', || {
        let addr: SocketAddr = format!("10.77.0.1:{port}").parse().unwrap();
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        Ok(out)
    })
}
