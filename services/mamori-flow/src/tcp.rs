//! TCP connection state, both directions, as an observer (not an endpoint):
//! we never reject a segment an end host might accept, we only learn where
//! each direction's byte stream starts and how the connection progresses.

use mamori_applayer::Direction;

use crate::timeouts::FlowState;

/// Connection progress, named like Suricata's EVE `tcp.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    Closing,
    TimeWait,
    Closed,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait1 => "fin_wait1",
            TcpState::FinWait2 => "fin_wait2",
            TcpState::Closing => "closing",
            TcpState::TimeWait => "time_wait",
            TcpState::Closed => "closed",
        }
    }
}

/// What one segment taught us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpEvent {
    /// The sender's stream now starts at this sequence number (first sight,
    /// or a SYN with a new ISN before any data).
    pub stream_start: Option<u32>,
    /// The sender will send no more data (FIN or RST).
    pub sender_done: bool,
    /// RST: both directions are over.
    pub reset: bool,
    /// Handshake completed with this segment.
    pub established: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Side {
    isn: Option<u32>,
    started: bool,
    fin: bool,
    flags: u8,
}

#[derive(Clone, Debug)]
pub struct TcpConn {
    state: TcpState,
    sides: [Side; 2],
    /// Picked up without seeing the handshake.
    pub midstream: bool,
    /// A SYN carried data (TCP Fast Open).
    pub fast_open: bool,
}

impl Default for TcpConn {
    fn default() -> Self {
        TcpConn { state: TcpState::None, sides: [Side::default(); 2], midstream: false, fast_open: false }
    }
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

impl TcpConn {
    pub fn state(&self) -> TcpState {
        self.state
    }

    /// Flags seen from one direction, OR-ed (EVE `tcp_flags_ts`/`_tc`).
    pub fn flags(&self, dir: Direction) -> u8 {
        self.sides[dir.index()].flags
    }

    /// Flow lifecycle stage for timeouts.
    pub fn flow_state(&self) -> FlowState {
        match self.state {
            TcpState::None | TcpState::SynSent | TcpState::SynRecv => FlowState::New,
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 => FlowState::Established,
            TcpState::Closing | TcpState::TimeWait | TcpState::Closed => FlowState::Closed,
        }
    }

    /// Observe one segment sent in `dir`.
    pub fn on_segment(&mut self, dir: Direction, seq: u32, flags: u8, payload_len: usize) -> TcpEvent {
        let mut ev = TcpEvent::default();
        let i = dir.index();
        self.sides[i].flags |= flags;
        if flags & RST != 0 {
            self.state = TcpState::Closed;
            ev.reset = true;
            ev.sender_done = true;
            return ev;
        }
        if flags & SYN != 0 {
            let side = &mut self.sides[i];
            // A retransmitted SYN with a new ISN before any data restarts the
            // stream; once data flowed, a SYN is noise and changes nothing.
            if side.isn != Some(seq) && !side.started_with_data() {
                side.isn = Some(seq);
                side.started = true;
                ev.stream_start = Some(seq.wrapping_add(1));
            }
            if payload_len > 0 {
                self.fast_open = true;
            }
            self.state = match (self.state, flags & ACK != 0) {
                (TcpState::None, false) => TcpState::SynSent,
                (TcpState::None | TcpState::SynSent, true) => TcpState::SynRecv,
                (s, _) => s,
            };
        } else {
            if !self.sides[i].started {
                // Mid-stream pickup, or the SYN of this side was not captured.
                self.sides[i].started = true;
                ev.stream_start = Some(seq);
                if self.state == TcpState::None {
                    self.midstream = true;
                    self.state = TcpState::Established;
                    ev.established = true;
                }
            }
            if self.state == TcpState::SynRecv && flags & ACK != 0 && dir == Direction::ToServer {
                self.state = TcpState::Established;
                ev.established = true;
            }
            // A data-carrying ACK from the client after our missed SYN/ACK.
            if self.state == TcpState::SynSent && flags & ACK != 0 {
                self.state = TcpState::Established;
                ev.established = true;
            }
        }
        if flags & FIN != 0 && !self.sides[i].fin {
            self.sides[i].fin = true;
            ev.sender_done = true;
            let other_fin = self.sides[1 - i].fin;
            self.state = match (self.state, other_fin) {
                (_, true) => TcpState::Closing,
                (TcpState::Established | TcpState::SynRecv | TcpState::SynSent | TcpState::None, false) => {
                    TcpState::FinWait1
                }
                (s, _) => s,
            };
        } else if flags & ACK != 0 && self.sides[0].fin && self.sides[1].fin && self.state == TcpState::Closing {
            self.state = TcpState::TimeWait;
        }
        ev
    }
}

impl Side {
    fn started_with_data(&self) -> bool {
        // `started` from a SYN only: data may yet come with a new ISN.
        self.started && self.isn.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;

    #[test]
    fn three_way_handshake_then_fin_both_ways() {
        let mut c = TcpConn::default();
        assert_eq!(c.on_segment(ToServer, 100, SYN, 0).stream_start, Some(101));
        assert_eq!(c.state(), TcpState::SynSent);
        assert_eq!(c.on_segment(ToClient, 500, SYN | ACK, 0).stream_start, Some(501));
        assert!(c.on_segment(ToServer, 101, ACK, 0).established);
        assert_eq!(c.flow_state(), FlowState::Established);
        assert!(c.on_segment(ToServer, 101, FIN | ACK, 0).sender_done);
        assert_eq!(c.state(), TcpState::FinWait1);
        c.on_segment(ToClient, 501, FIN | ACK, 0);
        assert_eq!(c.state(), TcpState::Closing);
        assert_eq!(c.flow_state(), FlowState::Closed);
        assert_eq!(c.flags(ToServer), SYN | ACK | FIN);
    }

    #[test]
    fn midstream_pickup_starts_at_first_seq() {
        let mut c = TcpConn::default();
        let ev = c.on_segment(ToServer, 7777, ACK, 10);
        assert_eq!(ev.stream_start, Some(7777));
        assert!(c.midstream);
        assert_eq!(c.state(), TcpState::Established);
    }

    #[test]
    fn syn_with_data_is_fast_open_and_data_starts_after_isn() {
        let mut c = TcpConn::default();
        assert_eq!(c.on_segment(ToServer, 1000, SYN, 20).stream_start, Some(1001));
        assert!(c.fast_open);
    }

    #[test]
    fn syn_retransmit_with_new_isn_restarts_stream() {
        let mut c = TcpConn::default();
        c.on_segment(ToServer, 1000, SYN, 0);
        assert_eq!(c.on_segment(ToServer, 1000, SYN, 0).stream_start, None);
        assert_eq!(c.on_segment(ToServer, 5000, SYN, 0).stream_start, Some(5001));
    }

    #[test]
    fn rst_closes() {
        let mut c = TcpConn::default();
        c.on_segment(ToServer, 1, SYN, 0);
        let ev = c.on_segment(ToClient, 0, RST | ACK, 0);
        assert!(ev.reset);
        assert_eq!(c.state(), TcpState::Closed);
    }
}
