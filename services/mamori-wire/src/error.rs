use thiserror::Error;

/// Why a packet could not be decoded. Each variant is counted by the engine
/// under [`DecodeError::counter`], so the names are stable.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    #[error("{layer}: packet truncated")]
    Truncated { layer: &'static str },
    #[error("{layer}: invalid header length")]
    BadHeaderLength { layer: &'static str },
    #[error("ip: version field does not match the link type")]
    BadIpVersion,
    #[error("ipv6: too many extension headers")]
    TooManyExtensionHeaders,
    #[error("link: unsupported link type {0}")]
    UnsupportedLink(u32),
    #[error("link: too many VLAN tags")]
    TooManyVlans,
}

impl DecodeError {
    /// Stable counter name, Suricata-like (`decoder.<layer>.<what>`).
    pub fn counter(&self) -> &'static str {
        match self {
            DecodeError::Truncated { layer } => match *layer {
                "ethernet" => "decoder.ethernet.truncated",
                "vlan" => "decoder.vlan.truncated",
                "sll" => "decoder.sll.truncated",
                "sll2" => "decoder.sll2.truncated",
                "ipv4" => "decoder.ipv4.truncated",
                "ipv6" => "decoder.ipv6.truncated",
                "tcp" => "decoder.tcp.truncated",
                "udp" => "decoder.udp.truncated",
                "icmpv4" => "decoder.icmpv4.truncated",
                "icmpv6" => "decoder.icmpv6.truncated",
                _ => "decoder.truncated",
            },
            DecodeError::BadHeaderLength { layer } => match *layer {
                "ipv4" => "decoder.ipv4.bad_header_length",
                "ipv6" => "decoder.ipv6.bad_header_length",
                "tcp" => "decoder.tcp.bad_header_length",
                "udp" => "decoder.udp.bad_header_length",
                _ => "decoder.bad_header_length",
            },
            DecodeError::BadIpVersion => "decoder.ip.bad_version",
            DecodeError::TooManyExtensionHeaders => "decoder.ipv6.too_many_exthdrs",
            DecodeError::UnsupportedLink(_) => "decoder.link.unsupported",
            DecodeError::TooManyVlans => "decoder.vlan.too_many_layers",
        }
    }
}
