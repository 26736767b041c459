//! Events the parser reports to the engine.

use mamori_applayer::Anomaly;

/// What the parser learnt while consuming input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpEvent {
    /// The request line and headers of a transaction are parsed.
    RequestHeaders {
        tx_id: u64,
    },
    /// The request (including any body) is complete.
    RequestComplete {
        tx_id: u64,
    },
    /// The status line and headers of the response are parsed.
    ResponseHeaders {
        tx_id: u64,
    },
    /// The transaction is complete (request and response). The parser may
    /// free it after the next call, so copy what is needed now.
    ResponseComplete {
        tx_id: u64,
    },
    Anomaly(Anomaly),
}

impl From<crate::anomaly::HttpAnomaly> for HttpEvent {
    fn from(a: crate::anomaly::HttpAnomaly) -> Self {
        HttpEvent::Anomaly(a.into())
    }
}
