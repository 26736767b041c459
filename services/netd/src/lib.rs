//! mamori-netd: builds the inline bridge (WAN and LAN ports, no STP, no addresses on the ports) and owns
//! the nftables table that blocks listed networks and hands bridged flows to inspect over NFQUEUE.
//!
//! Decisions are pure and unit-tested ([`links::plan`], [`ruleset::ruleset`], [`intervals::diff`],
//! [`blocklist::parse`]); [`netlink`], [`nft`], [`firewall`], [`brnf`] and [`nics`] do the I/O.

pub mod blocklist;
pub mod brnf;
pub mod config;
pub mod firewall;
pub mod intervals;
pub mod links;
pub mod netlink;
pub mod nft;
pub mod nics;
pub mod ruleset;
