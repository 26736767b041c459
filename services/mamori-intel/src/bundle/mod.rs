//! The signed, versioned intel bundle.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! header   40 bytes  magic "MAMORIIB", format u16 (=1), section count u16,
//!                    reserved u32, bundle version u64, created (unix s) i64,
//!                    body length u64 (header + table + sections)
//! table    48 bytes per section: kind u16, reserved u16, reserved u32,
//!                    length u64, SHA-256 of the section
//! sections back to back, in table order
//! trailer  80 bytes  "MSIG", algorithm u16 (1 = Ed25519), reserved u16,
//!                    key id (first 8 bytes of SHA-256 of the public key),
//!                    Ed25519 signature over every byte before it
//! ```
//!
//! Plain Ed25519 (`ed25519-dalek`, strict verification), not minisign: one
//! key type, no extra file format, and the key id lets a wrong key be told
//! apart from a damaged file.

mod container;
mod sections;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

pub use container::{BundleHeader, FORMAT_VERSION, MAGIC};

use crate::intel::Intel;
use crate::matcher::DecodeError;

/// Why a bundle was refused. The caller keeps the bundle it already has.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not a Mamori intel bundle (bad magic)")]
    BadMagic,
    #[error("unsupported bundle format version {0}")]
    UnsupportedFormat(u16),
    #[error("bundle truncated: {got} of {expected} bytes")]
    Truncated { expected: u64, got: u64 },
    #[error("bundle is not signed")]
    Unsigned,
    #[error("bundle signed by another key (key id {found})")]
    WrongKey { found: String },
    #[error("bundle signature does not verify")]
    BadSignature,
    #[error("bundle is corrupt: {0}")]
    Corrupt(&'static str),
    #[error("section {kind} does not match its hash")]
    SectionHash { kind: u16 },
    #[error("bundle lacks section {0}")]
    MissingSection(&'static str),
    #[error("bundle version {offered} is not newer than the loaded version {current}")]
    Rollback { current: u64, offered: u64 },
    #[error("bundle content: {0}")]
    Decode(#[from] DecodeError),
}

/// Short identifier of a public key, written into each bundle.
pub fn key_id(key: &VerifyingKey) -> [u8; 8] {
    let d = Sha256::digest(key.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    id
}

/// Serializes `intel` as a signed bundle.
pub(crate) fn write_signed(intel: &Intel, version: u64, created_unix: i64, key: &SigningKey) -> Vec<u8> {
    let mut out = write_unsigned(intel, version, created_unix);
    container::append_trailer_head(&mut out, &key_id(&key.verifying_key()));
    let sig = key.sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    out
}

pub(crate) fn write_unsigned(intel: &Intel, version: u64, created_unix: i64) -> Vec<u8> {
    container::write_body(version, created_unix, &sections::encode(intel))
}

/// Checks a bundle and loads it.
///
/// Refuses, with a typed error: anything that is not a bundle, a newer
/// format, a truncated or padded file, an unsigned bundle, one signed by
/// another key, a bad signature, a section that does not match its hash,
/// and (rollback protection) a version not newer than `current`.
pub fn verify_and_load(bytes: &[u8], key: &VerifyingKey, current: Option<u64>) -> Result<Intel, BundleError> {
    let body = container::verify(bytes, key)?;
    let header = container::read_header(body)?;
    if let Some(current) = current {
        if header.bundle_version <= current {
            return Err(BundleError::Rollback { current, offered: header.bundle_version });
        }
    }
    let secs = container::read_sections(body, &header)?;
    let mut intel = sections::decode(&secs)?;
    intel.version = header.bundle_version;
    intel.created_unix = header.created_unix;
    Ok(intel)
}

/// Appends the trailer head (for the fuzzing harness, which signs bodies).
#[doc(hidden)]
pub fn container_append_trailer_head(body: &mut Vec<u8>, key_id: &[u8; 8]) {
    container::append_trailer_head(body, key_id);
}

/// Reads the header without checking the signature: for tools that show
/// what a file claims to be. Never trust its contents.
pub fn read_header_unverified(bytes: &[u8]) -> Result<BundleHeader, BundleError> {
    container::read_header(bytes)
}
