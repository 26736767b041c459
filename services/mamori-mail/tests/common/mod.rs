//! Helpers for the protocol tests: scripted sessions and mail fixtures.

#![allow(dead_code)]

use mamori_applayer::{Direction, MemorySink, ParseCtx, Status, StreamParser};
use mamori_mail::MailEvent;
use sha2::{Digest, Sha256};

pub const C: Direction = Direction::ToServer;
pub const S: Direction = Direction::ToClient;

pub fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

pub struct Run {
    pub events: Vec<MailEvent>,
    pub files: MemorySink,
    pub statuses: Vec<Status>,
}

impl Run {
    pub fn commands(&self) -> Vec<(String, Option<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MailEvent::Command { verb, arg } => Some((verb.clone(), arg.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn replies(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MailEvent::Reply { code, .. } => Some(code.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn records(&self) -> Vec<(u64, mamori_mail::MailRecord)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MailEvent::MailComplete { tx_id, record } => Some((*tx_id, (**record).clone())),
                _ => None,
            })
            .collect()
    }

    pub fn starts(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MailEvent::MailStart { tx_id } => Some(*tx_id),
                _ => None,
            })
            .collect()
    }

    pub fn anomalies(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MailEvent::Anomaly(a) => Some(a.event),
                _ => None,
            })
            .collect()
    }

    /// Everything the events say, for "this secret never shows up" checks.
    pub fn debug_text(&self) -> String {
        format!("{:?}", self.events)
    }

    pub fn file_hashes(&self) -> Vec<(Vec<u8>, u64, String)> {
        self.files.files.iter().map(|f| (f.meta.name.clone(), f.meta.tx_id, sha(&f.content))).collect()
    }
}

/// Plays `script` through `parser`, optionally cutting the `split_dir`
/// stream into two pieces at byte `cut` of each of its messages.
pub fn play<P: StreamParser<Event = MailEvent>>(
    parser: &mut P,
    script: &[(Direction, &[u8])],
    cut: Option<(Direction, usize)>,
) -> Run {
    let mut events = Vec::new();
    let mut files = MemorySink::default();
    let mut statuses = Vec::new();
    for (dir, data) in script {
        let pieces: Vec<&[u8]> = match cut {
            Some((d, at)) if d == *dir && at < data.len() => vec![&data[..at], &data[at..]],
            _ => vec![data],
        };
        for p in pieces {
            let mut ctx = ParseCtx { events: &mut events, files: &mut files };
            statuses.push(parser.input(*dir, p, &mut ctx));
        }
    }
    let mut ctx = ParseCtx { events: &mut events, files: &mut files };
    parser.close(C, &mut ctx);
    parser.close(S, &mut ctx);
    Run { events, files, statuses }
}

/// Base64 in 76-column lines.
pub fn b64_lines(data: &[u8]) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut enc = Vec::new();
    for c in data.chunks(3) {
        let (n, k) = match c.len() {
            1 => (u32::from(c[0]) << 16, 2),
            2 => ((u32::from(c[0]) << 16) | (u32::from(c[1]) << 8), 3),
            _ => ((u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]), 4),
        };
        for i in 0..4 {
            enc.push(if i < k { A[((n >> (18 - 6 * i)) & 63) as usize] } else { b'=' });
        }
    }
    let mut out = Vec::new();
    for line in enc.chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Attachment content that is not text.
pub fn binary(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A multipart mail (CRLF lines, not dot-stuffed) with a text body holding
/// lines that start with dots, and one base64 attachment.
pub fn mail(subject: &str, filename: &str, attachment: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nCc: carol@example.com\r\nSubject: {subject}\r\n\
Message-ID: <{filename}@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n\
--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nHello.\r\n.hidden line\r\n..two dots\r\n\r\n\
--BOUNDARY\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"{filename}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(&b64_lines(attachment));
    m.extend_from_slice(b"--BOUNDARY--\r\n");
    m
}

/// Dot-stuffs a message for SMTP DATA / POP3 RETR.
pub fn dot_stuff(m: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at_start = true;
    for &b in m {
        if at_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_start = b == b'\n';
    }
    out
}
