//! The cheapest possible NFQUEUE consumer: one thread per queue, whole
//! packets copied to user space (as mamori-inspect asks for them), every
//! packet accepted, one batch verdict per turn.
//!
//! The inline benchmark (`tests/bench-inline`) runs it as the "NFQUEUE
//! floor": what any user-space engine fed by NFQUEUE costs on the machine
//! before it inspects a single byte. An engine cannot beat it.
//!
//! Usage: accept_all FIRST_QUEUE COUNT [spin]
//!
//! With `spin` the threads never sleep in `recv`: they poll the socket and
//! yield the CPU between polls, which takes the wake-up of a sleeping
//! thread out of each packet's path (the benchmark's latency floor).

use std::io;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use mamori_nfq::msg::{self, Message, VerdictKind};
use mamori_nfq::verdicts::id_after;
use mamori_nfq::{NfqSocket, QueueOptions};

/// Datagrams taken per turn before the verdict goes out (inspect takes up
/// to 64 waiting packets per turn too).
const MAX_TURN: usize = 64;

static PACKETS: AtomicU64 = AtomicU64::new(0);

fn worker(queue: u16, spin: bool) -> io::Result<()> {
    let sock = NfqSocket::open(queue, &QueueOptions::default())?;
    let mut buf = vec![0u8; 128 * 1024];
    let mut out = Vec::with_capacity(64);
    loop {
        let mut n = if spin { sock.try_recv(&mut buf)? } else { sock.recv(&mut buf)? };
        if n == 0 && spin {
            std::thread::yield_now();
            continue;
        }
        let mut last: Option<u32> = None;
        let mut taken = 0;
        while n > 0 {
            for m in msg::messages(&buf[..n]) {
                if let Ok(Message::Packet(p)) = m {
                    if last.is_none_or(|l| id_after(p.id, l)) {
                        last = Some(p.id);
                    }
                    PACKETS.fetch_add(1, Ordering::Relaxed);
                }
            }
            taken += 1;
            if taken == MAX_TURN {
                break;
            }
            n = sock.try_recv(&mut buf)?;
        }
        if let Some(id) = last {
            out.clear();
            msg::verdict_batch(&mut out, queue, id, VerdictKind::Accept);
            sock.send(&out)?;
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(first), Some(count)) =
        (args.first().and_then(|a| a.parse::<u16>().ok()), args.get(1).and_then(|a| a.parse::<u16>().ok()))
    else {
        eprintln!("usage: accept_all FIRST_QUEUE COUNT [spin]");
        return ExitCode::from(2);
    };
    let spin = args.get(2).is_some_and(|a| a == "spin");
    let handles: Vec<_> = (first..first.saturating_add(count))
        .map(|q| {
            std::thread::Builder::new()
                .name(format!("nfq{q}"))
                .spawn(move || worker(q, spin).map_err(|e| format!("queue {q}: {e}")))
                .expect("spawning a thread")
        })
        .collect();
    eprintln!(
        "accept_all: bound queues {first}..{}{}",
        first.saturating_add(count),
        if spin { ", polling" } else { "" }
    );
    for h in handles {
        if let Ok(Err(e)) = h.join() {
            eprintln!("accept_all: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
