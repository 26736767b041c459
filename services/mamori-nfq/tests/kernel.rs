//! Against the host kernel, in a throw-away network namespace: iptables'
//! `-j NFQUEUE` feeds the socket (the nftables `queue` statement is tested
//! in the VM lab). Skipped, with the reason printed, when not root.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use mamori_nfq::msg::{messages, Message, Packet};
use mamori_nfq::{ConfigFlags, NfqSocket, QueueOptions, Verdict, VerdictBatch};

struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Option<Netns> {
        let name = format!("mamori-nfq-{tag}-{}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot create a network namespace (needs root and iproute2)");
            return None;
        }
        let ns = Netns(name);
        ns.run(&["ip", "link", "set", "lo", "up"]);
        Some(ns)
    }

    fn run(&self, args: &[&str]) {
        let st = Command::new("ip").args(["netns", "exec", &self.0]).args(args).status().expect("ip netns exec");
        assert!(st.success(), "{args:?} failed");
    }

    /// Move the calling thread into the namespace.
    fn enter(&self) {
        let f = std::fs::File::open(format!("/run/netns/{}", self.0)).expect("netns file");
        // SAFETY: setns on a valid namespace fd affects only this thread.
        let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// What `f` makes of each packet from the queue, until `want` arrived or
/// the deadline passed.
fn take_with<T>(sock: &NfqSocket, want: usize, f: impl Fn(&Packet<'_>) -> T) -> Vec<T> {
    let mut buf = vec![0u8; 1 << 17];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < want && Instant::now() < deadline {
        let n = sock.recv(&mut buf).expect("recv");
        for m in messages(&buf[..n]) {
            if let Ok(Message::Packet(p)) = m {
                got.push(f(&p));
            }
        }
    }
    got
}

/// Packet ids and UDP payloads (after the 20-byte IPv4 and 8-byte UDP
/// headers) from the queue.
fn take(sock: &NfqSocket, want: usize) -> Vec<(u32, Vec<u8>)> {
    take_with(sock, want, |p| (p.id, p.payload.get(28..).unwrap_or_default().to_vec()))
}

/// Flows whose conntrack mark has bit 1 skip the queue, as on the
/// appliance; the rest of the UDP on `lo` goes to `queue` (passing while
/// nobody is bound).
fn queue_udp(ns: &Netns, queue: &str) {
    ns.run(&["iptables", "-A", "OUTPUT", "-o", "lo", "-m", "connmark", "--mark", "0x1/0x1", "-j", "ACCEPT"]);
    ns.run(&[
        "iptables",
        "-A",
        "OUTPUT",
        "-o",
        "lo",
        "-p",
        "udp",
        "-j",
        "NFQUEUE",
        "--queue-num",
        queue,
        "--queue-bypass",
    ]);
}

fn received(rx: &UdpSocket, want: usize) -> Vec<Vec<u8>> {
    rx.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(3);
    while out.len() < want && Instant::now() < deadline {
        if let Ok(n) = rx.recv(&mut buf) {
            out.push(buf[..n].to_vec());
        }
    }
    out
}

#[test]
fn verdicts_marks_batches_and_fail_open_work_in_the_kernel() {
    let Some(ns) = Netns::new("v") else { return };
    queue_udp(&ns, "7");
    // The packet mark set with a verdict is saved to the connection in
    // POSTROUTING (the appliance's ruleset does the same), for kernels where
    // the verdict cannot carry the conntrack mark itself.
    ns.run(&[
        "iptables",
        "-t",
        "mangle",
        "-A",
        "POSTROUTING",
        "-m",
        "mark",
        "--mark",
        "0x1/0x1",
        "-j",
        "CONNMARK",
        "--set-xmark",
        "0x1/0x1",
    ]);
    std::thread::scope(|s| {
        s.spawn(|| {
            ns.enter();
            let rx = UdpSocket::bind("127.0.0.1:9999").unwrap();
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let tx2 = UdpSocket::bind("127.0.0.1:0").unwrap();

            // With the bypass flag and nobody bound, traffic passes.
            tx.send_to(b"before", "127.0.0.1:9999").unwrap();
            assert_eq!(received(&rx, 1), vec![b"before".to_vec()]);

            let opts = QueueOptions { max_len: 3, ..QueueOptions::default() };
            let q = NfqSocket::open(7, &opts).expect("bind queue 7");

            // Drop one, accept one with the bypass bit on its connection.
            tx2.send_to(b"drop-me", "127.0.0.1:9999").unwrap();
            tx.send_to(b"mark-me", "127.0.0.1:9999").unwrap();
            let pkts = take(&q, 2);
            assert_eq!(pkts.len(), 2);
            let mut batch = VerdictBatch::new(7);
            for (id, payload) in &pkts {
                batch.push(match payload.as_slice() {
                    b"drop-me" => Verdict::drop(*id),
                    _ => Verdict { mark: Some(1), connmark_bits: q.conntrack().then_some(1), ..Verdict::accept(*id) },
                });
            }
            let mut out = Vec::new();
            batch.encode(None, &mut out);
            q.send(&out).unwrap();
            assert_eq!(received(&rx, 2), vec![b"mark-me".to_vec()]);

            // The marked connection no longer goes through the queue.
            tx.send_to(b"bypassed", "127.0.0.1:9999").unwrap();
            assert_eq!(received(&rx, 1), vec![b"bypassed".to_vec()]);

            // A batch verdict accepts everything up to its id.
            let tx3 = UdpSocket::bind("127.0.0.1:0").unwrap();
            for m in [b"b1", b"b2", b"b3"] {
                tx3.send_to(m, "127.0.0.1:9999").unwrap();
            }
            // The three are queued by the time the sends return: one
            // batched receive takes them all, in order, and then none.
            let mut bufs = vec![vec![0u8; 1 << 17]; 8];
            let mut lens = [0usize; 8];
            assert_eq!(q.try_recv_many(&mut bufs, &mut lens).expect("recvmmsg"), 3);
            let pkts: Vec<(u32, Vec<u8>)> = bufs
                .iter()
                .zip(lens)
                .take(3)
                .filter_map(|(b, n)| match messages(&b[..n]).next() {
                    Some(Ok(Message::Packet(p))) => Some((p.id, p.payload.get(28..).unwrap_or_default().to_vec())),
                    _ => None,
                })
                .collect();
            let payloads: Vec<&[u8]> = pkts.iter().map(|(_, p)| p.as_slice()).collect();
            assert_eq!(payloads, [b"b1", b"b2", b"b3"]);
            assert_eq!(q.try_recv_many(&mut bufs, &mut lens).expect("recvmmsg"), 0, "nothing more queued");
            let mut batch = VerdictBatch::new(7);
            for (id, _) in &pkts {
                batch.push(Verdict::accept(*id));
            }
            let mut out = Vec::new();
            assert_eq!(batch.encode(None, &mut out), 1, "one batch message");
            q.send(&out).unwrap();
            assert_eq!(received(&rx, 3).len(), 3);

            // Queue full (max_len 3, nobody reading): fail-open passes the rest.
            let tx4 = UdpSocket::bind("127.0.0.1:0").unwrap();
            for i in 0..6u8 {
                tx4.send_to(&[b'f', i], "127.0.0.1:9999").unwrap();
            }
            let passed = received(&rx, 3);
            assert_eq!(passed.len(), 3, "packets beyond the queue length pass: {passed:?}");
            drop(q);
            // Closing the socket unbinds: the 3 held packets are lost, the
            // next ones pass again (bypass).
            tx4.send_to(b"after", "127.0.0.1:9999").unwrap();
            assert_eq!(received(&rx, 1), vec![b"after".to_vec()]);
        });
    });
}

#[test]
fn a_verdict_sets_the_conntrack_mark_without_packets_carrying_their_entry() {
    let Some(ns) = Netns::new("ct") else { return };
    // Unlike the test above, nothing copies the packet mark to the
    // connection: only the verdict's NFQA_CT can make the flow skip the queue.
    queue_udp(&ns, "8");
    std::thread::scope(|s| {
        s.spawn(|| {
            ns.enter();
            let rx = UdpSocket::bind("127.0.0.1:9998").unwrap();
            let q = NfqSocket::open(8, &QueueOptions::default()).expect("bind queue 8");
            let with_entries =
                QueueOptions { flags: ConfigFlags::GSO.union(ConfigFlags::CONNTRACK), ..QueueOptions::default() };
            if !q.conntrack() {
                // Asked for explicitly, the entries the kernel cannot give
                // are done without, as the verdicts' conntrack mark is.
                drop(q);
                let q = NfqSocket::open(8, &with_entries).expect("queue 8 opens without conntrack support");
                assert!(!q.conntrack());
                eprintln!("skipped the rest: this kernel has no nf_conntrack_netlink");
                return;
            }
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            tx.send_to(b"first", "127.0.0.1:9998").unwrap();
            let pkts = take_with(&q, 1, |p| (p.id, p.ct_info.is_some()));
            assert_eq!(pkts.len(), 1);
            assert!(!pkts[0].1, "by default queued packets come without their conntrack entry");
            let mut batch = VerdictBatch::new(8);
            batch.push(Verdict { connmark_bits: Some(1), ..Verdict::accept(pkts[0].0) });
            let mut out = Vec::new();
            batch.encode(None, &mut out);
            q.send(&out).unwrap();
            assert_eq!(received(&rx, 1), vec![b"first".to_vec()]);
            tx.send_to(b"second", "127.0.0.1:9998").unwrap();
            assert_eq!(received(&rx, 1), vec![b"second".to_vec()], "the marked flow skips the queue");
            let mut bufs = vec![vec![0u8; 1 << 17]; 2];
            let mut lens = [0usize; 2];
            assert_eq!(q.try_recv_many(&mut bufs, &mut lens).expect("recvmmsg"), 0, "nothing was queued");
            drop(q);

            // Asked for, the entry comes with each packet.
            let q = NfqSocket::open(8, &with_entries).expect("bind queue 8 again");
            let tx2 = UdpSocket::bind("127.0.0.1:0").unwrap();
            tx2.send_to(b"third", "127.0.0.1:9998").unwrap();
            let pkts = take_with(&q, 1, |p| (p.id, p.ct_info.is_some()));
            assert_eq!(pkts.len(), 1);
            assert!(pkts[0].1, "with ConfigFlags::CONNTRACK the entry comes along");
        });
    });
}
