//! DNS over TCP: messages framed by a 2-byte length (RFC 1035 §4.2.2).

use mamori_applayer::{Anomaly, Direction, ParseCtx, Status, StreamParser};

use crate::event::DnsEvent;
use crate::message::parse_message;

/// Largest frame: the prefix is 16 bits, so a message is at most 64 KiB and
/// so is every buffer here.
pub const MAX_FRAME: usize = u16::MAX as usize;

/// Messages in a row that fail to parse before we decide the flow is not
/// DNS after all.
const MAX_BAD_MESSAGES: u8 = 3;

#[derive(Debug, Default)]
struct Half {
    /// Bytes of the current frame (length prefix included) not yet complete.
    buf: Vec<u8>,
    bad_in_a_row: u8,
    stopped: bool,
}

/// Stream parser for DNS over TCP. Several messages per flow, in both
/// directions; a gap stops the direction (framing is lost).
#[derive(Debug, Default)]
pub struct DnsTcpParser {
    halves: [Half; 2],
}

impl DnsTcpParser {
    pub fn new() -> DnsTcpParser {
        DnsTcpParser::default()
    }
}

impl Half {
    fn input(&mut self, mut data: &[u8], events: &mut Vec<DnsEvent>) -> Status {
        if self.stopped {
            return Status::Stop;
        }
        while !data.is_empty() {
            // Complete the length prefix first.
            if self.buf.len() < 2 {
                let take = (2 - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.buf.len() < 2 {
                    break;
                }
            }
            let want = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
            if want == 0 {
                events.push(DnsEvent::Anomaly(Anomaly::new("dns", "zero_length_message")));
                return self.stop();
            }
            let have = self.buf.len() - 2;
            let take = (want - have).min(data.len());
            // Whole message present in the input: parse it in place.
            if have == 0 && take == want {
                self.message(&data[..want], events);
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(&data[..take]);
                if self.buf.len() - 2 == want {
                    let frame = std::mem::take(&mut self.buf);
                    self.message(&frame[2..], events);
                }
            }
            data = &data[take..];
            if self.bad_in_a_row >= MAX_BAD_MESSAGES {
                return self.stop();
            }
        }
        Status::Continue
    }

    fn message(&mut self, msg: &[u8], events: &mut Vec<DnsEvent>) {
        match parse_message(msg) {
            Ok(m) => {
                self.bad_in_a_row = 0;
                events.extend(m.anomalies().into_iter().map(DnsEvent::Anomaly));
                events.push(DnsEvent::Message(m));
            }
            Err(_) => {
                self.bad_in_a_row = self.bad_in_a_row.saturating_add(1);
                events.push(DnsEvent::Anomaly(Anomaly::new("dns", "malformed_data")));
            }
        }
    }

    fn stop(&mut self) -> Status {
        self.stopped = true;
        self.buf = Vec::new();
        Status::Stop
    }
}

impl StreamParser for DnsTcpParser {
    type Event = DnsEvent;

    fn input(&mut self, dir: Direction, data: &[u8], ctx: &mut ParseCtx<'_, DnsEvent>) -> Status {
        let Some(half) = self.halves.get_mut(dir.index()) else {
            return Status::Stop;
        };
        half.input(data, ctx.events)
    }

    fn gap(&mut self, dir: Direction, _len: u64, ctx: &mut ParseCtx<'_, DnsEvent>) -> Status {
        let Some(half) = self.halves.get_mut(dir.index()) else {
            return Status::Stop;
        };
        if !half.stopped {
            ctx.events.push(DnsEvent::Anomaly(Anomaly::new("dns", "gap")));
        }
        half.stop()
    }

    fn close(&mut self, dir: Direction, ctx: &mut ParseCtx<'_, DnsEvent>) {
        let Some(half) = self.halves.get_mut(dir.index()) else {
            return;
        };
        if !half.stopped && !half.buf.is_empty() {
            ctx.events.push(DnsEvent::Anomaly(Anomaly::new("dns", "incomplete_message")));
        }
        half.buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_applayer::NullSink;

    const QUERY: &[u8] = b"\x10\x32\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06google\x03com\x00\x00\x10\x00\x01";

    fn framed(msgs: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for m in msgs {
            v.extend_from_slice(&(m.len() as u16).to_be_bytes());
            v.extend_from_slice(m);
        }
        v
    }

    fn run(p: &mut DnsTcpParser, dir: Direction, chunks: &[&[u8]]) -> (Vec<DnsEvent>, Status) {
        let mut events = Vec::new();
        let mut sink = NullSink::default();
        let mut status = Status::Continue;
        for c in chunks {
            let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
            status = p.input(dir, c, &mut ctx);
        }
        (events, status)
    }

    fn names(events: &[DnsEvent]) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                DnsEvent::Message(m) => Some(m.queries[0].name.value.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_messages_split_at_every_offset() {
        let mut second = QUERY.to_vec();
        second[13..19].copy_from_slice(b"gaagle");
        let stream = framed(&[QUERY, &second]);
        for cut in 0..=stream.len() {
            let mut p = DnsTcpParser::new();
            let (events, status) = run(&mut p, Direction::ToServer, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(status, Status::Continue);
            assert_eq!(names(&events), vec![b"google.com".to_vec(), b"gaagle.com".to_vec()], "cut {cut}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let stream = framed(&[QUERY, QUERY, QUERY]);
        let chunks: Vec<&[u8]> = stream.chunks(1).collect();
        let (events, _) = run(&mut DnsTcpParser::new(), Direction::ToServer, &chunks);
        assert_eq!(names(&events).len(), 3);
    }

    #[test]
    fn gap_stops_direction_only() {
        let mut p = DnsTcpParser::new();
        let mut events = Vec::new();
        let mut sink = NullSink::default();
        let mut ctx = ParseCtx { events: &mut events, files: &mut sink };
        assert_eq!(p.gap(Direction::ToServer, 10, &mut ctx), Status::Stop);
        assert_eq!(p.input(Direction::ToServer, &framed(&[QUERY]), &mut ctx), Status::Stop);
        assert_eq!(p.input(Direction::ToClient, &framed(&[QUERY]), &mut ctx), Status::Continue);
        assert_eq!(names(&events).len(), 1);
    }

    #[test]
    fn garbage_frames_stop_the_flow() {
        let junk = framed(&[b"\x00\x01\x02", b"\x00\x01\x02", b"\x00\x01\x02", QUERY]);
        let (events, status) = run(&mut DnsTcpParser::new(), Direction::ToServer, &[&junk]);
        assert_eq!(status, Status::Stop);
        assert!(names(&events).is_empty());
        let (events, status) = run(&mut DnsTcpParser::new(), Direction::ToServer, &[b"\x00\x00"]);
        assert_eq!(status, Status::Stop);
        assert!(matches!(&events[0], DnsEvent::Anomaly(a) if a.event == "zero_length_message"));
    }

    #[test]
    fn partial_message_at_close_is_reported() {
        let mut p = DnsTcpParser::new();
        let stream = framed(&[QUERY]);
        let (_, _) = run(&mut p, Direction::ToServer, &[&stream[..10]]);
        let mut events = Vec::new();
        let mut sink = NullSink::default();
        p.close(Direction::ToServer, &mut ParseCtx { events: &mut events, files: &mut sink });
        assert!(matches!(&events[0], DnsEvent::Anomaly(a) if a.event == "incomplete_message"));
    }
}
