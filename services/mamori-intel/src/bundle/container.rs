//! Header, section table and signature trailer.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{key_id, BundleError};

pub const MAGIC: [u8; 8] = *b"MAMORIIB";
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 40;
const ENTRY_LEN: usize = 48;
const TRAILER_MAGIC: [u8; 4] = *b"MSIG";
const TRAILER_LEN: usize = 80;
const ALG_ED25519: u16 = 1;
/// More sections than any format version defines: refuse, do not iterate.
const MAX_SECTIONS: usize = 64;

/// What a bundle's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BundleHeader {
    pub format_version: u16,
    pub section_count: u16,
    pub bundle_version: u64,
    pub created_unix: i64,
    pub body_len: u64,
}

/// A section as found in the table, already checked against its hash.
pub(crate) struct Section<'a> {
    pub(crate) kind: u16,
    pub(crate) data: &'a [u8],
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at.saturating_add(2)) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at.saturating_add(8)) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

pub(crate) fn write_body(version: u64, created_unix: i64, sections: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let table_len = sections.len().saturating_mul(ENTRY_LEN);
    let payload: usize = sections.iter().map(|(_, d)| d.len()).sum();
    let body_len = HEADER_LEN.saturating_add(table_len).saturating_add(payload);
    let mut out = Vec::with_capacity(body_len.saturating_add(TRAILER_LEN));
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&u16::try_from(sections.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&created_unix.to_le_bytes());
    out.extend_from_slice(&(body_len as u64).to_le_bytes());
    for (kind, data) in sections {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(data));
    }
    for (_, data) in sections {
        out.extend_from_slice(data);
    }
    out
}

/// Appends the trailer's head (magic, algorithm, key id): the signature
/// covers it too, so that no byte of the file is unsigned.
pub(crate) fn append_trailer_head(body: &mut Vec<u8>, key_id: &[u8; 8]) {
    body.extend_from_slice(&TRAILER_MAGIC);
    body.extend_from_slice(&ALG_ED25519.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(key_id);
}

pub(crate) fn read_header(bytes: &[u8]) -> Result<BundleHeader, BundleError> {
    let magic_len = MAGIC.len().min(bytes.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(BundleError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(BundleError::Truncated { expected: HEADER_LEN as u64, got: bytes.len() as u64 });
    }
    let format_version = le_u16(bytes, 8);
    if format_version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedFormat(format_version));
    }
    Ok(BundleHeader {
        format_version,
        section_count: le_u16(bytes, 10),
        bundle_version: le_u64(bytes, 16),
        created_unix: i64::from_le_bytes(le_u64(bytes, 24).to_le_bytes()),
        body_len: le_u64(bytes, 32),
    })
}

/// Checks length, trailer and signature (over every byte before it);
/// returns the body.
pub(crate) fn verify<'a>(bytes: &'a [u8], key: &VerifyingKey) -> Result<&'a [u8], BundleError> {
    let h = read_header(bytes)?;
    let got = bytes.len() as u64;
    let body_len = usize::try_from(h.body_len).map_err(|_| BundleError::Corrupt("body length"))?;
    if body_len < HEADER_LEN {
        return Err(BundleError::Corrupt("body length"));
    }
    if got < h.body_len {
        return Err(BundleError::Truncated { expected: h.body_len.saturating_add(TRAILER_LEN as u64), got });
    }
    let (body, trailer) = bytes.split_at(body_len);
    if trailer.is_empty() {
        return Err(BundleError::Unsigned);
    }
    if trailer.len() < TRAILER_LEN {
        return Err(BundleError::Truncated { expected: h.body_len.saturating_add(TRAILER_LEN as u64), got });
    }
    if trailer.len() > TRAILER_LEN {
        return Err(BundleError::Corrupt("data after the signature"));
    }
    if trailer.get(..4) != Some(&TRAILER_MAGIC[..]) {
        return Err(BundleError::Corrupt("signature trailer"));
    }
    if le_u16(trailer, 4) != ALG_ED25519 {
        return Err(BundleError::Corrupt("unknown signature algorithm"));
    }
    let found = trailer.get(8..16).unwrap_or(&[]);
    if found != key_id(key) {
        return Err(BundleError::WrongKey { found: hex::encode(found) });
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(trailer.get(16..80).ok_or(BundleError::Corrupt("trailer"))?);
    let signed = bytes.get(..body_len.saturating_add(16)).ok_or(BundleError::Corrupt("trailer"))?;
    key.verify_strict(signed, &Signature::from_bytes(&sig)).map_err(|_| BundleError::BadSignature)?;
    Ok(body)
}

/// Splits a verified body into its sections, checking each hash.
pub(crate) fn read_sections<'a>(body: &'a [u8], h: &BundleHeader) -> Result<Vec<Section<'a>>, BundleError> {
    let count = usize::from(h.section_count);
    if count > MAX_SECTIONS {
        return Err(BundleError::Corrupt("too many sections"));
    }
    let table_end = HEADER_LEN.saturating_add(count.saturating_mul(ENTRY_LEN));
    let table = body.get(HEADER_LEN..table_end).ok_or(BundleError::Corrupt("section table"))?;
    let mut at = table_end;
    let mut out = Vec::with_capacity(count);
    for entry in table.chunks_exact(ENTRY_LEN) {
        let kind = le_u16(entry, 0);
        let len = usize::try_from(le_u64(entry, 8)).map_err(|_| BundleError::Corrupt("section length"))?;
        let end = at.checked_add(len).ok_or(BundleError::Corrupt("section length"))?;
        let data = body.get(at..end).ok_or(BundleError::Corrupt("section beyond body"))?;
        if Sha256::digest(data).as_slice() != entry.get(16..48).unwrap_or(&[]) {
            return Err(BundleError::SectionHash { kind });
        }
        out.push(Section { kind, data });
        at = end;
    }
    if at != body.len() {
        return Err(BundleError::Corrupt("sections do not fill the body"));
    }
    Ok(out)
}
