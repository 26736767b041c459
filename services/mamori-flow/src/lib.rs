//! Flows: which packets belong together, for how long, and in which TCP
//! state. Sans-I/O: time comes in with each call as microseconds.

pub mod key;
pub mod table;
pub mod tcp;
pub mod timeouts;

pub use key::{Endpoint, FlowKey};
pub use table::{Flow, FlowId, FlowTable, Lookup, TableConfig};
pub use tcp::{TcpConn, TcpEvent, TcpState};
pub use timeouts::{FlowState, Timeouts};
