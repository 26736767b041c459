//! Tiny name peeks: TLS ClientHello SNI, DNS question, HTTP Host.

pub enum Peek {
    Found(String),
    NotThis,
    NeedMore,
}

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?])))
}

/// SNI from a client's TLS stream (records concatenated).
pub fn tls_sni(stream: &[u8]) -> Peek {
    // Gather handshake bytes from consecutive handshake records.
    let mut hs = Vec::new();
    let mut at = 0;
    while let Some(&ct) = stream.get(at) {
        if ct != 0x16 || stream.get(at + 1) != Some(&3) {
            if hs.is_empty() {
                return Peek::NotThis;
            }
            break;
        }
        let Some(len) = be16(stream, at + 3) else { return Peek::NeedMore };
        let body = &stream[(at + 5).min(stream.len())..(at + 5 + len).min(stream.len())];
        hs.extend_from_slice(body);
        if at + 5 + len > stream.len() {
            break;
        }
        at += 5 + len;
    }
    if hs.first() != Some(&1) {
        return if hs.is_empty() { Peek::NeedMore } else { Peek::NotThis };
    }
    let Some(hlen) = hs.get(1..4).map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    else {
        return Peek::NeedMore;
    };
    if hs.len() < 4 + hlen {
        return Peek::NeedMore;
    }
    let ch = &hs[4..4 + hlen];
    // version(2) random(32) session_id
    let mut p = 34;
    let Some(&sid) = ch.get(p) else { return Peek::NotThis };
    p += 1 + usize::from(sid);
    let Some(cs) = be16(ch, p) else { return Peek::NotThis };
    p += 2 + cs;
    let Some(&cm) = ch.get(p) else { return Peek::NotThis };
    p += 1 + usize::from(cm);
    let Some(ext_len) = be16(ch, p) else { return Peek::NotThis };
    p += 2;
    let end = (p + ext_len).min(ch.len());
    while p + 4 <= end {
        let (Some(t), Some(l)) = (be16(ch, p), be16(ch, p + 2)) else { break };
        let body = ch.get(p + 4..p + 4 + l).unwrap_or(&[]);
        if t == 0 {
            // list len(2), type(1), name len(2), name
            if let (Some(nl), Some(0)) = (be16(body, 3), body.get(2).copied()) {
                if let Some(n) = body.get(5..5 + nl) {
                    return Peek::Found(String::from_utf8_lossy(n).into_owned());
                }
            }
            return Peek::NotThis;
        }
        p += 4 + l;
    }
    Peek::NotThis
}

/// First question name of a DNS message, when it is a query or answer.
pub fn dns_question(msg: &[u8]) -> Option<String> {
    let qd = be16(msg, 4)?;
    if qd == 0 || msg.len() < 12 {
        return None;
    }
    let mut p = 12;
    let mut labels = Vec::new();
    for _ in 0..64 {
        let l = usize::from(*msg.get(p)?);
        if l == 0 {
            break;
        }
        if l & 0xc0 != 0 {
            return None;
        }
        let label = msg.get(p + 1..p + 1 + l)?;
        if !label.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        labels.push(String::from_utf8_lossy(label).into_owned());
        p += 1 + l;
    }
    if labels.is_empty() {
        return None;
    }
    Some(labels.join("."))
}

/// `Host` of an HTTP/1 request at the start of a payload.
pub fn http_host(payload: &[u8]) -> Option<String> {
    const METHODS: &[&[u8]] = &[b"GET ", b"POST ", b"HEAD ", b"PUT ", b"OPTIONS ", b"CONNECT ", b"DELETE "];
    if !METHODS.iter().any(|m| payload.starts_with(m)) {
        return None;
    }
    let text = String::from_utf8_lossy(payload.get(..payload.len().min(4096))?);
    for line in text.split("\r\n").skip(1) {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("host") {
                let v = v.trim();
                // Drop a port; keep IPv6 brackets intact.
                let host = if v.starts_with('[') { v } else { v.split(':').next().unwrap_or(v) };
                return Some(host.to_owned());
            }
        }
    }
    None
}
