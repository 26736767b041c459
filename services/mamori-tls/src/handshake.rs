//! Handshake message reassembly across records (RFC 8446 5.1: a message may
//! span records, and a record may hold several messages).

use std::ops::ControlFlow;

/// Largest handshake message body accepted. Post-quantum ClientHellos are
/// ~2 KiB and long certificate chains stay well below this.
pub const MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;

const HEADER: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

#[derive(Clone, Debug, Default)]
pub(crate) struct HandshakeBuffer {
    /// A message in progress: its header and the body bytes seen so far.
    partial: Vec<u8>,
}

impl HandshakeBuffer {
    /// A message is half-way through.
    pub(crate) fn in_progress(&self) -> bool {
        !self.partial.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.partial = Vec::new();
    }

    /// Consumes handshake-record bytes and calls `on_message(type, body)` for
    /// every message completed. `on_message` returning `Break` drops the rest
    /// of `data` (used when what follows is encrypted).
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        mut on_message: impl FnMut(u8, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), TooLarge> {
        while !data.is_empty() {
            if self.partial.is_empty() {
                // Fast path: whole messages straight from the record, no copy.
                if let Some((typ, len)) = header(data) {
                    if len > MAX_HANDSHAKE_MESSAGE {
                        return Err(TooLarge);
                    }
                    if let Some(body) = data.get(HEADER..HEADER + len) {
                        data = data.get(HEADER + len..).unwrap_or_default();
                        if on_message(typ, body).is_break() {
                            return Ok(());
                        }
                        continue;
                    }
                }
            }
            // Slow path: collect the header, then exactly one body.
            let need = match header(&self.partial) {
                Some((_, len)) if len > MAX_HANDSHAKE_MESSAGE => return Err(TooLarge),
                Some((_, len)) => HEADER + len,
                None => HEADER,
            };
            let take = need.saturating_sub(self.partial.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.partial.extend_from_slice(head);
            data = rest;
            if let Some((typ, len)) = header(&self.partial) {
                if len > MAX_HANDSHAKE_MESSAGE {
                    return Err(TooLarge);
                }
                if self.partial.len() == HEADER + len {
                    let msg = std::mem::take(&mut self.partial);
                    if on_message(typ, msg.get(HEADER..).unwrap_or_default()).is_break() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

fn header(b: &[u8]) -> Option<(u8, usize)> {
    match b {
        [t, l0, l1, l2, ..] => Some((*t, (usize::from(*l0) << 16) | (usize::from(*l1) << 8) | usize::from(*l2))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![typ];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn reassembles_messages_split_anywhere() {
        let stream = [msg(2, &[1, 2, 3]), msg(11, &[]), msg(14, &[9; 300])].concat();
        for split in 0..stream.len() {
            let mut hb = HandshakeBuffer::default();
            let mut seen = Vec::new();
            for part in [&stream[..split], &stream[split..]] {
                hb.feed(part, |t, b| {
                    seen.push((t, b.to_vec()));
                    ControlFlow::Continue(())
                })
                .expect("within bounds");
            }
            assert_eq!(seen, vec![(2, vec![1, 2, 3]), (11, vec![]), (14, vec![9; 300])], "split {split}");
            assert!(!hb.in_progress());
        }
    }

    #[test]
    fn byte_by_byte() {
        let stream = msg(1, &[7; 40]);
        let mut hb = HandshakeBuffer::default();
        let mut seen = 0;
        for b in &stream {
            hb.feed(std::slice::from_ref(b), |_, body| {
                assert_eq!(body, &[7; 40]);
                seen += 1;
                ControlFlow::Continue(())
            })
            .expect("within bounds");
        }
        assert_eq!(seen, 1);
    }

    #[test]
    fn oversized_message_is_refused_before_buffering() {
        let mut hb = HandshakeBuffer::default();
        let hdr = [11, 0x01, 0x00, 0x01];
        assert_eq!(hb.feed(&hdr, |_, _| ControlFlow::Continue(())), Err(TooLarge));
        let mut hb = HandshakeBuffer::default();
        hb.feed(&hdr[..2], |_, _| ControlFlow::Continue(())).expect("header not complete yet");
        assert_eq!(hb.feed(&hdr[2..], |_, _| ControlFlow::Continue(())), Err(TooLarge));
    }

    #[test]
    fn break_drops_the_rest() {
        let stream = [msg(2, &[1]), msg(11, &[2])].concat();
        let mut hb = HandshakeBuffer::default();
        let mut seen = 0;
        hb.feed(&stream, |_, _| {
            seen += 1;
            ControlFlow::Break(())
        })
        .expect("within bounds");
        assert_eq!(seen, 1);
        assert!(!hb.in_progress());
    }
}
