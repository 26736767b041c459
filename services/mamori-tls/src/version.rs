//! Protocol version names as Suricata's EVE prints them.

/// Suricata's `SSLVersionToString`: `"TLS 1.2"`, `"TLSv1"`, `"SSLv3"`, drafts, else `0x%04x`.
pub fn version_name(v: u16) -> String {
    let name = match v {
        0x0000 => "UNDETERMINED",
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f00..=0x7f0f => "TLS 1.3 draft-<16",
        0xfb17 => "TLS 1.3 draft-23-fb",
        0xfb1a => "TLS 1.3 draft-26-fb",
        0x7f10..=0x7fff => return format!("TLS 1.3 draft-{}", v & 0xff),
        _ => return format!("0x{v:04x}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(version_name(0x0301), "TLSv1");
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x7f1c), "TLS 1.3 draft-28");
        assert_eq!(version_name(0x1234), "0x1234");
    }
}
