//! Initial packet protection keys (RFC 9001 5.2, RFC 9369 3.3).

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::version::InitialProtection;

/// Keys protecting one direction's Initial packets.
#[derive(Clone)]
pub(crate) struct DirectionKeys {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl std::fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectionKeys(..)")
    }
}

/// Both directions' Initial keys, derived from the client's first DCID.
#[derive(Clone, Debug)]
pub(crate) struct InitialKeys {
    pub dcid: Vec<u8>,
    pub client: DirectionKeys,
    pub server: DirectionKeys,
}

/// HKDF-Expand-Label (RFC 8446 7.1) with an empty context.
fn expand_label(prk: &Hkdf<Sha256>, label: &str, out: &mut [u8]) -> Option<()> {
    let full_len = 6 + label.len();
    let mut info = Vec::with_capacity(4 + full_len);
    info.extend_from_slice(&u16::try_from(out.len()).ok()?.to_be_bytes());
    info.push(u8::try_from(full_len).ok()?);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    prk.expand(&info, out).ok()
}

fn direction_keys(secret: &[u8; 32], prefix: &str) -> Option<DirectionKeys> {
    let prk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let (mut key, mut iv, mut hp) = ([0u8; 16], [0u8; 12], [0u8; 16]);
    expand_label(&prk, &format!("{prefix} key"), &mut key)?;
    expand_label(&prk, &format!("{prefix} iv"), &mut iv)?;
    expand_label(&prk, &format!("{prefix} hp"), &mut hp)?;
    Some(DirectionKeys { aead: Aes128Gcm::new_from_slice(&key).ok()?, iv, hp: Aes128::new_from_slice(&hp).ok()? })
}

pub(crate) fn initial_secrets(protection: &InitialProtection, dcid: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (_, initial) = Hkdf::<Sha256>::extract(Some(protection.salt), dcid);
    let (mut client, mut server) = ([0u8; 32], [0u8; 32]);
    expand_label(&initial, "client in", &mut client)?;
    expand_label(&initial, "server in", &mut server)?;
    Some((client, server))
}

impl InitialKeys {
    pub(crate) fn derive(protection: &InitialProtection, dcid: &[u8]) -> Option<InitialKeys> {
        let (client, server) = initial_secrets(protection, dcid)?;
        Some(InitialKeys {
            dcid: dcid.to_vec(),
            client: direction_keys(&client, protection.label_prefix)?,
            server: direction_keys(&server, protection.label_prefix)?,
        })
    }
}

impl DirectionKeys {
    /// Header-protection mask from a 16-byte ciphertext sample (AES-ECB).
    pub(crate) fn mask(&self, sample: &[u8; 16]) -> [u8; 16] {
        let mut block = aes::Block::from(*sample);
        self.hp.encrypt_block(&mut block);
        block.into()
    }

    /// Opens an Initial payload in place; returns the plaintext length.
    pub(crate) fn open(&self, packet_number: u64, header: &[u8], payload: &mut [u8]) -> Option<usize> {
        let body_len = payload.len().checked_sub(16)?;
        let (body, tag) = payload.split_at_mut(body_len);
        let nonce = self.nonce(packet_number);
        let tag = Tag::clone_from_slice(tag);
        self.aead.decrypt_in_place_detached(Nonce::from_slice(&nonce), header, body, &tag).ok()?;
        Some(body_len)
    }

    /// RFC 9001 5.3: the IV XORed with the packet number.
    fn nonce(&self, packet_number: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, p) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *n ^= p;
        }
        nonce
    }

    /// Encrypts in place and appends the tag (tests build packets with it).
    #[cfg(test)]
    pub(crate) fn seal(&self, packet_number: u64, header: &[u8], payload: &mut Vec<u8>) {
        let nonce = self.nonce(packet_number);
        let tag = self.aead.encrypt_in_place_detached(Nonce::from_slice(&nonce), header, payload).expect("seal");
        payload.extend_from_slice(&tag);
    }

    #[cfg(test)]
    pub(crate) fn iv(&self) -> [u8; 12] {
        self.iv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::{Family, V1, V2};

    fn protection(v: crate::version::QuicVersion) -> InitialProtection {
        match v.family() {
            Some(Family::Ietf(p)) => p,
            _ => panic!("ietf version"),
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    const DCID: &str = "8394c8f03e515708";

    // RFC 9001 A.1.
    #[test]
    fn v1_secrets_and_ivs() {
        let (client, server) = initial_secrets(&protection(V1), &hex(DCID)).expect("derive");
        assert_eq!(client.to_vec(), hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"));
        assert_eq!(server.to_vec(), hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"));
        let keys = InitialKeys::derive(&protection(V1), &hex(DCID)).expect("derive");
        assert_eq!(keys.client.iv().to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(keys.server.iv().to_vec(), hex("0ac1493ca1905853b0bba03e"));
        // RFC 9001 A.2: sample -> mask.
        let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().expect("16");
        assert_eq!(keys.client.mask(&sample)[..5].to_vec(), hex("437b9aec36"));
    }

    // RFC 9369 A.1.
    #[test]
    fn v2_server_iv() {
        let keys = InitialKeys::derive(&protection(V2), &hex(DCID)).expect("derive");
        assert_eq!(keys.server.iv().to_vec(), hex("dd13c276499c0249d3310652"));
    }
}
