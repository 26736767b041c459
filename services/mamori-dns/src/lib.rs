//! Sans-I/O DNS parsing for Mamori.
//!
//! * [`parse_message`] decodes one message (a UDP payload, or a TCP message
//!   without its length prefix). It is lenient the way Suricata is: once the
//!   header and questions parse, damage further in yields a partial
//!   [`DnsMessage`] with `broken_section` set instead of an error.
//! * [`probe_udp`] / [`probe_tcp`] decide from content whether a flow is DNS.
//! * [`DnsTcpParser`] is the [`mamori_applayer::StreamParser`] for DNS over
//!   TCP.
//! * [`DnsEve`] is the EVE `dns` object (Suricata 8, version 3).
//!
//! Every buffer is bounded: names by [`name::MAX_NAME_LEN`], records per
//! message by [`message::MAX_RECORDS`], TCP frames by the 16-bit prefix.

pub mod error;
pub mod eve;
pub mod event;
pub mod header;
pub mod message;
pub mod name;
pub mod probe;
pub mod rdata;
pub mod tcp;

pub use error::DnsError;
pub use eve::{DnsEve, QueryEve, RecordEve};
pub use event::{parse_datagram, DnsEvent};
pub use header::{Flags, Header};
pub use message::{parse_message, DnsMessage, Question, Record, Section};
pub use name::Name;
pub use probe::{probe_tcp, probe_udp};
pub use rdata::RData;
pub use tcp::DnsTcpParser;

#[doc(hidden)]
pub mod fuzzing;
