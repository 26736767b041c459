//! What the DNS parsers report.

use mamori_applayer::Anomaly;

use crate::message::DnsMessage;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsEvent {
    /// A message parsed (possibly partially: see `broken_section`).
    Message(DnsMessage),
    Anomaly(Anomaly),
}

/// Parses one UDP payload into events: the message with its anomalies, or
/// a single `malformed_data` anomaly when not even the questions parse.
pub fn parse_datagram(payload: &[u8], events: &mut Vec<DnsEvent>) {
    match crate::message::parse_message(payload) {
        Ok(m) => {
            events.extend(m.anomalies().into_iter().map(DnsEvent::Anomaly));
            events.push(DnsEvent::Message(m));
        }
        Err(_) => events.push(DnsEvent::Anomaly(Anomaly::new("dns", "malformed_data"))),
    }
}
