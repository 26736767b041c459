//! The path fuzzing and the regression corpus drive the parser through.
//! Not part of the supported API.

use crate::{probe, HttpConfig, HttpEvent, HttpParser};
use mamori_applayer::{Direction, MemorySink, ParseCtx, Status, StreamParser};

fn small_config() -> HttpConfig {
    HttpConfig {
        max_head_bytes: 300,
        max_header_lines: 8,
        max_transactions: 4,
        decompress_layer_limit: 2,
        decompress_max_output: 64 * 1024,
        decompress_max_ratio: 50,
        decompress_ratio_min_output: 1024,
        decompress_requests: true,
    }
}

struct Driver {
    parser: HttpParser,
    files: MemorySink,
    events: Vec<HttpEvent>,
    stopped: bool,
}

impl Driver {
    fn ctx(&mut self) -> (&mut HttpParser, ParseCtx<'_, HttpEvent>) {
        (&mut self.parser, ParseCtx { events: &mut self.events, files: &mut self.files })
    }

    fn data(&mut self, dir: Direction, d: &[u8]) {
        if self.stopped {
            return;
        }
        let (p, mut ctx) = self.ctx();
        if p.input(dir, d, &mut ctx) == Status::Stop {
            self.stopped = true;
        }
        self.check();
    }

    fn gap(&mut self, dir: Direction, len: u64) {
        if self.stopped {
            return;
        }
        let (p, mut ctx) = self.ctx();
        if p.gap(dir, len, &mut ctx) == Status::Stop {
            self.stopped = true;
        }
        self.check();
    }

    fn close(&mut self, dir: Direction) {
        if self.stopped {
            return;
        }
        let (p, mut ctx) = self.ctx();
        p.close(dir, &mut ctx);
        self.check();
    }

    /// Invariants that must hold after every call.
    fn check(&mut self) {
        for e in &self.events {
            if let HttpEvent::ResponseComplete { tx_id } = e {
                // Reported complete: still readable until the next call.
                let tx = self.parser.tx(*tx_id);
                assert!(tx.is_some_and(|t| t.is_complete()), "completed tx {tx_id} must be readable");
                if let Some(t) = tx {
                    let _ = t.eve();
                }
            }
        }
        assert!(self.parser.transactions().count() <= 4 * 1024, "transactions unbounded");
        // A connection said to be over leaves the data path: nothing of it
        // may still be in progress.
        assert!(
            !self.parser.over() || self.parser.transactions().all(|t| t.is_complete()),
            "over with a transaction in progress"
        );
        self.events.clear();
    }
}

/// Runs arbitrary bytes through the parser. The first byte picks the
/// configuration and the mode:
/// - bit 6 clear: the rest is a request stream and a response stream
///   (split at a point given by the second byte), each fed in pieces of
///   `(first & 0x0f) + 1` bytes, requests first;
/// - bit 6 set: the rest is a script of operations (data, gap, close) on
///   either direction, with explicit piece lengths.
///
/// Bit 7 selects tiny limits so that limit paths are reached.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _ = probe(Direction::ToServer, rest);
    let _ = probe(Direction::ToClient, rest);
    let cfg = if mode & 0x80 != 0 { small_config() } else { HttpConfig::default() };
    let mut d =
        Driver { parser: HttpParser::new(cfg), files: MemorySink::default(), events: Vec::new(), stopped: false };
    if mode & 0x40 == 0 {
        let Some((&cut, body)) = rest.split_first() else {
            return;
        };
        let at = (usize::from(cut) * body.len()) / 255;
        let (req, res) = body.split_at(at.min(body.len()));
        let step = usize::from(mode & 0x0f) + 1;
        for piece in req.chunks(step) {
            d.data(Direction::ToServer, piece);
        }
        for piece in res.chunks(step) {
            d.data(Direction::ToClient, piece);
        }
    } else {
        let mut i = 0;
        while let Some(&op) = rest.get(i) {
            i += 1;
            let dir = if op & 1 == 0 { Direction::ToServer } else { Direction::ToClient };
            match (op >> 1) & 0x07 {
                5 => d.gap(dir, u64::from(op >> 4) + 1),
                6 => d.close(dir),
                7 => {
                    d.data(dir, rest.get(i..).unwrap_or(&[]));
                    i = rest.len();
                }
                _ => {
                    let len = usize::from(rest.get(i).copied().unwrap_or(0)) + 1;
                    i += 1;
                    let end = i.saturating_add(len).min(rest.len());
                    d.data(dir, rest.get(i..end).unwrap_or(&[]));
                    i = end;
                }
            }
        }
    }
    d.close(Direction::ToServer);
    d.close(Direction::ToClient);
    assert!(d.files.files.iter().all(|f| f.end.is_some()), "every opened file is closed once both directions closed");
}
