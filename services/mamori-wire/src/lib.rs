//! Packet decoding in the style of smoltcp's `wire` module: views over byte
//! slices that check lengths once and then read fields without copying.
//!
//! Decoding is split by layer so that IP fragment reassembly can sit between
//! the network and transport layers:
//!
//! 1. [`link::decode`] strips the link layer (Ethernet with 802.1Q/QinQ, Linux
//!    SLL/SLL2, raw IP) and says which network protocol follows.
//! 2. [`ip::decode`] reads an IPv4 or IPv6 header (with extension headers) and
//!    reports whether the datagram is a fragment.
//! 3. [`defrag::Defragmenter`] rebuilds fragmented datagrams within bounds.
//! 4. [`transport::decode`] reads TCP, UDP, ICMP or ICMPv6.
//!
//! No function here panics on any input; malformed input yields a
//! [`DecodeError`] naming what was wrong, which the engine counts.

pub mod build;
pub mod defrag;
pub mod error;
pub mod ip;
pub mod link;
pub mod transport;
pub mod tunnel;

pub use error::DecodeError;
pub use ip::{Fragment, IpDatagram, IpVersion};
pub use link::{LinkFrame, LinkType, NetProto};
pub use transport::{Icmp, Tcp, TcpFlags, TcpOptions, Transport, Udp};

/// Read a big-endian u16 at `at`, or `None` if out of bounds.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}
