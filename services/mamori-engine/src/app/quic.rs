use mamori_applayer::Direction;
use mamori_quic::{QuicEvent, QuicFlow};

use super::{to_value, AppOut};

/// Logs one `quic` event per flow, when the client's Initial yields its
/// ClientHello.
pub(crate) struct QuicSession {
    flow: QuicFlow,
    events: Vec<QuicEvent>,
    logged: bool,
}

impl Default for QuicSession {
    fn default() -> Self {
        QuicSession { flow: QuicFlow::new(), events: Vec::new(), logged: false }
    }
}

impl QuicSession {
    pub fn datagram(&mut self, dir: Direction, payload: &[u8], out: &mut AppOut) {
        self.flow.datagram(dir, payload, &mut self.events);
        for ev in self.events.drain(..) {
            match ev {
                QuicEvent::ClientHello { .. } if !self.logged => {
                    if let Some(eve) = self.flow.eve() {
                        self.logged = true;
                        out.record("quic", Some(0), Some(Direction::ToServer), to_value(&eve));
                    }
                }
                QuicEvent::Anomaly(a) => out.anomalies.push(a),
                _ => {}
            }
        }
    }

    pub fn flush(&mut self, _out: &mut AppOut) {}
}
