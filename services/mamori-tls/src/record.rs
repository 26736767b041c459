//! TLS record framing (RFC 8446 5.1) across arbitrary TCP segmentation.
//!
//! Only the 5-byte header is ever buffered: record bodies are handed out as
//! they arrive, so a direction costs a few bytes of state however large its
//! records are.

use crate::probe::MAX_RECORD_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentType {
    ChangeCipherSpec,
    Alert,
    Handshake,
    ApplicationData,
    Heartbeat,
    /// An SSLv2-compatible ClientHello (only as the first record to the server).
    Sslv2Hello,
}

impl ContentType {
    fn from_byte(b: u8) -> Option<ContentType> {
        match b {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            24 => Some(ContentType::Heartbeat),
            _ => None,
        }
    }
}

/// Why the byte stream stopped looking like TLS records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordError {
    Type,
    Version,
    Length,
}

impl RecordError {
    pub(crate) fn event(self) -> &'static str {
        match self {
            RecordError::Type => "invalid_record_type",
            RecordError::Version => "invalid_record_version",
            RecordError::Length => "invalid_record_length",
        }
    }
}

/// A piece of one record's body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fragment<'a> {
    pub content_type: ContentType,
    pub data: &'a [u8],
    /// This piece completes the record.
    pub ends_record: bool,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Header { buf: [u8; 5], have: usize },
    Body { content_type: ContentType, remaining: usize },
}

#[derive(Clone, Debug)]
pub(crate) struct RecordReader {
    state: State,
    /// No header seen yet: the one place an SSLv2 header may appear.
    at_start: bool,
    allow_sslv2: bool,
}

impl RecordReader {
    pub(crate) fn new(allow_sslv2: bool) -> RecordReader {
        RecordReader { state: State::Header { buf: [0; 5], have: 0 }, at_start: true, allow_sslv2 }
    }

    /// Between records: no partial header and no partial body.
    #[cfg(test)]
    pub(crate) fn at_boundary(&self) -> bool {
        matches!(self.state, State::Header { have: 0, .. })
    }

    /// Inside the body of a record of this type.
    pub(crate) fn in_body_of(&self) -> Option<ContentType> {
        match self.state {
            State::Body { content_type, .. } => Some(content_type),
            State::Header { .. } => None,
        }
    }

    /// Accounts for `len` missing body bytes. False when the gap does not fall
    /// entirely inside the current record body (framing is then lost).
    pub(crate) fn skip_gap(&mut self, len: u64) -> bool {
        match &mut self.state {
            State::Body { remaining, .. } if (len as u128) < (*remaining as u128) => {
                // `len < remaining <= usize::MAX`, so the cast is lossless.
                *remaining -= len as usize;
                true
            }
            State::Body { remaining, .. } if (len as u128) == (*remaining as u128) => {
                self.state = State::Header { buf: [0; 5], have: 0 };
                true
            }
            _ => false,
        }
    }

    /// Takes bytes from the front of `data` and returns the next body
    /// fragment, or `None` once `data` is used up.
    pub(crate) fn next<'a>(&mut self, data: &mut &'a [u8]) -> Result<Option<Fragment<'a>>, RecordError> {
        loop {
            if data.is_empty() {
                return Ok(None);
            }
            match &mut self.state {
                State::Header { buf, have } => {
                    if *have == 0 && self.at_start && self.allow_sslv2 && data.first().is_some_and(|b| b & 0x80 != 0) {
                        // SSLv2 record header: 2 bytes, 15-bit length.
                        let (hdr, rest) = data.split_at_checked(2).unwrap_or((&[], &[]));
                        let [b0, b1] = hdr else {
                            // One lone byte: wait for the second.
                            buf[0] = data.first().copied().unwrap_or(0);
                            *have = 1;
                            *data = &[];
                            return Ok(None);
                        };
                        let len = (usize::from(b0 & 0x7f) << 8) | usize::from(*b1);
                        *data = rest;
                        self.at_start = false;
                        self.state = State::Body { content_type: ContentType::Sslv2Hello, remaining: len };
                        continue;
                    }
                    if *have == 1 && self.at_start && self.allow_sslv2 && buf[0] & 0x80 != 0 {
                        let Some((&b1, rest)) = data.split_first() else {
                            return Ok(None);
                        };
                        let len = (usize::from(buf[0] & 0x7f) << 8) | usize::from(b1);
                        *data = rest;
                        self.at_start = false;
                        self.state = State::Body { content_type: ContentType::Sslv2Hello, remaining: len };
                        continue;
                    }
                    let want = 5usize.saturating_sub(*have);
                    let take = want.min(data.len());
                    let (head, rest) = data.split_at(take);
                    if let Some(dst) = buf.get_mut(*have..*have + take) {
                        dst.copy_from_slice(head);
                    }
                    *have += take;
                    *data = rest;
                    if *have < 5 {
                        return Ok(None);
                    }
                    let hdr = *buf;
                    self.at_start = false;
                    let content_type = ContentType::from_byte(hdr[0]).ok_or(RecordError::Type)?;
                    if hdr[1] != 3 || hdr[2] > 4 {
                        return Err(RecordError::Version);
                    }
                    let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
                    if len > MAX_RECORD_LEN {
                        return Err(RecordError::Length);
                    }
                    self.state = if len == 0 {
                        State::Header { buf: [0; 5], have: 0 }
                    } else {
                        State::Body { content_type, remaining: len }
                    };
                }
                State::Body { content_type, remaining } => {
                    let content_type = *content_type;
                    let take = (*remaining).min(data.len());
                    let (body, rest) = data.split_at(take);
                    *remaining -= take;
                    *data = rest;
                    let ends_record = *remaining == 0;
                    if ends_record {
                        self.state = State::Header { buf: [0; 5], have: 0 };
                    }
                    return Ok(Some(Fragment { content_type, data: body, ends_record }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(reader: &mut RecordReader, mut data: &[u8]) -> Result<Vec<(ContentType, Vec<u8>, bool)>, RecordError> {
        let mut out = Vec::new();
        while let Some(f) = reader.next(&mut data)? {
            out.push((f.content_type, f.data.to_vec(), f.ends_record));
        }
        Ok(out)
    }

    #[test]
    fn frames_records_split_anywhere() {
        let stream = [
            &[0x16, 0x03, 0x01, 0x00, 0x03, 1, 2, 3][..],
            &[0x14, 0x03, 0x03, 0x00, 0x01, 1],
            &[0x17, 0x03, 0x03, 0x00, 0x02, 9, 9],
        ]
        .concat();
        for split in 0..stream.len() {
            let mut r = RecordReader::new(false);
            let mut frags = collect(&mut r, &stream[..split]).expect("valid");
            frags.extend(collect(&mut r, &stream[split..]).expect("valid"));
            let mut joined: Vec<(ContentType, Vec<u8>)> = Vec::new();
            for (ct, d, _) in frags {
                match joined.last_mut() {
                    Some((last, buf)) if *last == ct => buf.extend(d),
                    _ => joined.push((ct, d)),
                }
            }
            assert_eq!(
                joined,
                vec![
                    (ContentType::Handshake, vec![1, 2, 3]),
                    (ContentType::ChangeCipherSpec, vec![1]),
                    (ContentType::ApplicationData, vec![9, 9]),
                ],
                "split at {split}"
            );
            assert!(r.at_boundary());
        }
    }

    #[test]
    fn rejects_bad_headers() {
        let mut r = RecordReader::new(false);
        assert_eq!(collect(&mut r, &[0x19, 3, 3, 0, 1, 0]), Err(RecordError::Type));
        let mut r = RecordReader::new(false);
        assert_eq!(collect(&mut r, &[0x16, 2, 0, 0, 1, 0]), Err(RecordError::Version));
        let mut r = RecordReader::new(false);
        assert_eq!(collect(&mut r, &[0x16, 3, 3, 0xff, 0xff]), Err(RecordError::Length));
    }

    #[test]
    fn sslv2_header_only_at_start_and_when_allowed() {
        let mut r = RecordReader::new(true);
        let out = collect(&mut r, &[0x80, 0x03, 1, 3, 1, 0x16, 3, 1, 0, 1, 7]).expect("valid");
        assert_eq!(out[0], (ContentType::Sslv2Hello, vec![1, 3, 1], true));
        assert_eq!(out[1], (ContentType::Handshake, vec![7], true));
        let mut r = RecordReader::new(false);
        assert!(collect(&mut r, &[0x80, 0x03, 1, 3, 1]).is_err());
        // Split right after the first byte.
        let mut r = RecordReader::new(true);
        assert!(collect(&mut r, &[0x80]).expect("valid").is_empty());
        assert_eq!(collect(&mut r, &[0x02, 1, 3]).expect("valid"), vec![(ContentType::Sslv2Hello, vec![1, 3], true)]);
    }

    #[test]
    fn gaps_inside_a_body_keep_framing() {
        let mut r = RecordReader::new(false);
        assert_eq!(collect(&mut r, &[0x17, 3, 3, 0, 10, 1]).expect("valid").len(), 1);
        assert_eq!(r.in_body_of(), Some(ContentType::ApplicationData));
        assert!(r.skip_gap(4));
        assert!(r.skip_gap(5));
        assert!(r.at_boundary());
        assert!(!r.skip_gap(1));
    }
}
