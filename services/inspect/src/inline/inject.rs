//! Sends answers (resets, block pages, ICMP errors) out of a bridge port.
//!
//! An AF_PACKET socket writes whole Ethernet frames to one interface,
//! bypassing the bridge and netfilter, which is what an answer "from the
//! peer" needs: it must leave by the port the blocked packet came in on.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct Injector {
    fd: OwnedFd,
    /// Each port's own MAC, the source of last resort.
    port_macs: HashMap<u32, [u8; 6]>,
}

impl Injector {
    pub fn open() -> io::Result<Injector> {
        // Protocol 0: this socket only sends; it receives nothing.
        // SAFETY: plain socket(2); the fd is owned right away.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        Ok(Injector { fd: unsafe { OwnedFd::from_raw_fd(raw) }, port_macs: HashMap::new() })
    }

    /// The MAC of interface `ifindex` (from sysfs), cached.
    pub fn port_mac(&mut self, ifindex: u32) -> Option<[u8; 6]> {
        if let Some(m) = self.port_macs.get(&ifindex) {
            return Some(*m);
        }
        let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
        // SAFETY: name has IF_NAMESIZE bytes as if_indextoname requires.
        let p = unsafe { libc::if_indextoname(ifindex, name.as_mut_ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: if_indextoname wrote a NUL-terminated name.
        let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(format!("/sys/class/net/{name}/address")).ok()?;
        let mac = parse_mac(text.trim())?;
        self.port_macs.insert(ifindex, mac);
        Some(mac)
    }

    /// Send `ip` (an IPv4/IPv6 packet) in an Ethernet frame on `ifindex`.
    pub fn send(&self, ifindex: u32, src: [u8; 6], dst: [u8; 6], ip: &[u8]) -> io::Result<()> {
        let frame = mamori_wire::build::ethernet(src, dst, ip);
        // SAFETY: a zeroed sockaddr_ll is valid; the fields set below are
        // all sendto needs for SOCK_RAW.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex as i32;
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&dst);
        // SAFETY: frame and addr are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                &addr as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Which MAC sits behind which address, learned from queued packets, so an
/// answer can carry the MAC of the peer it speaks for. Bounded: when full it
/// starts over (a stale guess only costs a less accurate source MAC).
#[derive(Default)]
pub struct Neighbours {
    map: HashMap<IpAddr, [u8; 6]>,
}

const MAX_NEIGHBOURS: usize = 65_536;

impl Neighbours {
    pub fn learn(&mut self, ip: IpAddr, mac: [u8; 6]) {
        if self.map.len() >= MAX_NEIGHBOURS && !self.map.contains_key(&ip) {
            self.map.clear();
        }
        self.map.insert(ip, mac);
    }

    pub fn get(&self, ip: &IpAddr) -> Option<[u8; 6]> {
        self.map.get(ip).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_strictly() {
        assert_eq!(parse_mac("02:00:0a:ff:00:01"), Some([2, 0, 10, 255, 0, 1]));
        assert_eq!(parse_mac("02:00:0a:ff:00"), None);
        assert_eq!(parse_mac("02:00:0a:ff:00:01:02"), None);
        assert_eq!(parse_mac("zz:00:0a:ff:00:01"), None);
    }

    #[test]
    fn neighbours_stay_bounded() {
        let mut n = Neighbours::default();
        for i in 0..(MAX_NEIGHBOURS as u32 + 10) {
            n.learn(IpAddr::from(i.to_be_bytes()), [0; 6]);
        }
        assert!(n.map.len() <= MAX_NEIGHBOURS);
        n.learn("10.0.0.1".parse().unwrap(), [1; 6]);
        assert_eq!(n.get(&"10.0.0.1".parse().unwrap()), Some([1; 6]));
    }
}
