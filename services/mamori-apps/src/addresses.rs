//! The few services recognised by server address alone, for flows that show
//! nothing else (Telegram's MTProto is obfuscated and carries no name).
//! Only the operators' own published, long-stable ranges are listed.

use std::net::IpAddr;

use crate::app::App;

/// (network, prefix length, app) for IPv4.
const V4: &[([u8; 4], u8, App)] = &[
    // Telegram (AS62041), core.telegram.org/resources/cidr.txt
    ([91, 108, 4, 0], 22, App::Telegram),
    ([91, 108, 8, 0], 22, App::Telegram),
    ([91, 108, 12, 0], 22, App::Telegram),
    ([91, 108, 16, 0], 22, App::Telegram),
    ([91, 108, 20, 0], 22, App::Telegram),
    ([91, 108, 56, 0], 22, App::Telegram),
    ([91, 105, 192, 0], 23, App::Telegram),
    ([149, 154, 160, 0], 20, App::Telegram),
    ([185, 76, 151, 0], 24, App::Telegram),
    // Microsoft Teams media and signalling (Office 365 endpoint list).
    ([52, 112, 0, 0], 14, App::Teams),
    ([52, 122, 0, 0], 15, App::Teams),
    // Meta (AS32934) front ends.
    ([31, 13, 64, 0], 18, App::Facebook),
    ([66, 220, 144, 0], 20, App::Facebook),
    ([69, 63, 176, 0], 20, App::Facebook),
    ([69, 171, 224, 0], 19, App::Facebook),
    ([157, 240, 0, 0], 16, App::Facebook),
    ([173, 252, 64, 0], 18, App::Facebook),
    ([179, 60, 192, 0], 22, App::Facebook),
    ([185, 60, 216, 0], 22, App::Facebook),
];

/// (first 48 bits, app) for IPv6 /48 and shorter given as (prefix, len).
const V6: &[([u16; 8], u8, App)] = &[
    ([0x2001, 0x67c, 0x4e8, 0, 0, 0, 0, 0], 48, App::Telegram),
    ([0x2001, 0xb28, 0xf23d, 0, 0, 0, 0, 0], 48, App::Telegram),
    ([0x2001, 0xb28, 0xf23f, 0, 0, 0, 0, 0], 48, App::Telegram),
    ([0x2603, 0x1063, 0, 0, 0, 0, 0, 0], 38, App::Teams),
    ([0x2a03, 0x2880, 0, 0, 0, 0, 0, 0], 32, App::Facebook),
];

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32u32.saturating_sub(u32::from(len))).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128u32.saturating_sub(u32::from(len))).unwrap_or(0)
}

/// The app whose published range holds `ip`.
pub fn app_for_ip(ip: IpAddr) -> Option<App> {
    match ip {
        IpAddr::V4(a) => {
            let a = u32::from(a);
            V4.iter().find(|(net, len, _)| a & mask32(*len) == u32::from_be_bytes(*net)).map(|e| e.2)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return app_for_ip(IpAddr::V4(v4));
            }
            let a = u128::from(a);
            V6.iter().find(|(net, len, _)| a & mask128(*len) == u128::from(std::net::Ipv6Addr::from(*net))).map(|e| e.2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges() {
        assert_eq!(app_for_ip(ip("149.154.167.91")), Some(App::Telegram));
        assert_eq!(app_for_ip(ip("149.154.176.1")), None);
        assert_eq!(app_for_ip(ip("2001:67c:4e8:f004::9")), Some(App::Telegram));
        assert_eq!(app_for_ip(ip("52.114.250.153")), Some(App::Teams));
        assert_eq!(app_for_ip(ip("173.252.97.2")), Some(App::Facebook));
        assert_eq!(app_for_ip(ip("::ffff:149.154.167.91")), Some(App::Telegram));
        assert_eq!(app_for_ip(ip("8.8.8.8")), None);
    }
}
