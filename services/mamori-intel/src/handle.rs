//! Atomic replacement of the loaded intel while traffic flows.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use ed25519_dalek::VerifyingKey;

use crate::bundle::{verify_and_load, BundleError};
use crate::intel::Intel;

/// Shared handle to the current [`Intel`].
///
/// Readers call [`IntelHandle::current`] per lookup (lock-free); an update
/// verifies the new bundle completely before swapping it in, so a refused
/// bundle leaves the last good one in place and no reader ever sees a
/// half-loaded state.
pub struct IntelHandle {
    key: VerifyingKey,
    current: ArcSwap<Intel>,
}

impl IntelHandle {
    /// Starts with empty intel (version 0): nothing matches until a bundle
    /// loads, and any bundle with version >= 1 is accepted.
    pub fn new(key: VerifyingKey) -> Self {
        IntelHandle { key, current: ArcSwap::from_pointee(Intel::default()) }
    }

    /// Starts from a bundle; fails if it does not verify.
    pub fn from_bundle(key: VerifyingKey, bytes: &[u8]) -> Result<Self, BundleError> {
        let intel = verify_and_load(bytes, &key, None)?;
        Ok(IntelHandle { key, current: ArcSwap::from_pointee(intel) })
    }

    /// The intel to query now. Hold the guard for one lookup, not longer.
    pub fn current(&self) -> Guard<Arc<Intel>> {
        self.current.load()
    }

    pub fn version(&self) -> u64 {
        self.current.load().version()
    }

    /// Verifies and swaps in a newer bundle; returns the new version. On
    /// error the current intel stays.
    pub fn update(&self, bytes: &[u8]) -> Result<u64, BundleError> {
        let current = self.version();
        let intel = verify_and_load(bytes, &self.key, Some(current))?;
        let v = intel.version();
        // A concurrent update could have swapped in something newer since
        // `current` was read: only replace what we checked against.
        let new = Arc::new(intel);
        let prev = self.current.rcu(|old| if old.version() < v { Arc::clone(&new) } else { Arc::clone(old) });
        if prev.version() >= v {
            return Err(BundleError::Rollback { current: prev.version(), offered: v });
        }
        Ok(v)
    }
}
