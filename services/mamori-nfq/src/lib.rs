//! A lean NFQUEUE layer.
//!
//! Why not the `nfq` crate: it cannot set the conntrack mark on a verdict
//! (NFQA_CT/CTA_MARK), which is how inspect tells the kernel that a flow no
//! longer needs the queue, and it cannot send batched verdicts
//! (NFQNL_MSG_VERDICT_BATCH), which is most of the per-packet syscall cost.
//! Neither does it give the physical in/out ports and the source MAC that the
//! reject path needs on a bridge. The protocol is small and stable (it is
//! kernel ABI), so this crate speaks it directly:
//!
//! * [`msg`] encodes configuration and verdict messages and decodes queued
//!   packets. It is pure (no sockets), so it is unit-tested and fuzzed.
//! * [`verdicts`] collects the verdicts of one receive batch and turns runs of
//!   plain accepts into one batch verdict.
//! * [`socket`] is the thin `NETLINK_NETFILTER` socket.

pub mod msg;
pub mod socket;
pub mod verdicts;

pub use msg::{ConfigFlags, Packet, ParseError, Verdict, VerdictKind};
pub use socket::{NfqSocket, QueueOptions};
pub use verdicts::VerdictBatch;
