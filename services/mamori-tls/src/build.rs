//! Building TLS messages: tests and fuzz seeds across the workspace (as
//! `mamori_wire::build` does for packets), so every crate sends the same
//! well-formed bytes.

/// A TLS 1.2 record holding a minimal ClientHello that names `sni` (server
/// name extension only, one TLS 1.3 cipher suite): what a browser's first
/// bytes on port 443 look like to the SNI checks.
pub fn client_hello_record(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut sni_ext = Vec::new();
    sni_ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni_ext.push(0); // host_name
    sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni_ext.extend_from_slice(name);
    let mut exts = vec![0, 0];
    exts.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
    exts.extend_from_slice(&sni_ext);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_client_hello;

    #[test]
    fn the_built_hello_parses_and_names_its_server() {
        let rec = client_hello_record("www.example.jp");
        assert_eq!(usize::from(u16::from_be_bytes([rec[3], rec[4]])), rec.len() - 5, "record length");
        assert_eq!(rec[5], 1, "a ClientHello");
        let hello = parse_client_hello(&rec[9..]).expect("parses");
        assert_eq!(hello.sni().as_deref(), Some("www.example.jp"));
    }
}
