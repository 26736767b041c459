//! Compiling sources into matchers and bundles.

use ed25519_dalek::SigningKey;

use crate::bundle;
use crate::feeds::{parse_feed, FeedError, FeedFormat, ParsedFeed};
use crate::intel::Intel;
use crate::supplement;

/// Why a build failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("source name {0:?} used twice")]
    DuplicateSource(String),
    #[error("source name must be 1..=64 printable ASCII characters: {0:?}")]
    BadSourceName(String),
    #[error("source {name}: {error}")]
    Feed { name: String, error: FeedError },
}

/// Collects parsed sources and opaque sections, then compiles them.
#[derive(Clone, Debug, Default)]
pub struct IntelBuilder {
    sources: Vec<(String, ParsedFeed)>,
    app_signatures: Vec<u8>,
    rules: String,
}

impl IntelBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an already-parsed feed under a list name.
    pub fn add_feed(&mut self, name: &str, feed: ParsedFeed) -> Result<(), BuildError> {
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BuildError::BadSourceName(name.to_owned()));
        }
        if self.sources.iter().any(|(n, _)| n == name) {
            return Err(BuildError::DuplicateSource(name.to_owned()));
        }
        self.sources.push((name.to_owned(), feed));
        Ok(())
    }

    /// Parses `text` as `format` and adds it; returns the parse report.
    pub fn add_source(&mut self, name: &str, format: &FeedFormat, text: &str) -> Result<&ParsedFeed, BuildError> {
        let feed = parse_feed(format, text).map_err(|error| BuildError::Feed { name: name.to_owned(), error })?;
        self.add_feed(name, feed)?;
        Ok(self.sources.last().map(|(_, f)| f).unwrap_or_else(|| unreachable_feed()))
    }

    /// Adds the built-in list of Japanese services (source `jp-supplement`).
    pub fn add_jp_supplement(&mut self) -> Result<&ParsedFeed, BuildError> {
        let feed = supplement::jp_supplement();
        self.add_feed(supplement::SOURCE_NAME, feed)?;
        Ok(self.sources.last().map(|(_, f)| f).unwrap_or_else(|| unreachable_feed()))
    }

    pub fn set_app_signatures(&mut self, bytes: Vec<u8>) {
        self.app_signatures = bytes;
    }

    pub fn set_rules(&mut self, text: String) {
        self.rules = text;
    }

    pub fn sources(&self) -> impl Iterator<Item = (&str, &ParsedFeed)> {
        self.sources.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// Matchers in memory (version 0), without a bundle round trip.
    pub fn compile(&self) -> Intel {
        Intel::compile(&self.sources, self.app_signatures.clone(), self.rules.clone())
    }

    /// A signed bundle. `created_unix` comes from the caller: the library
    /// reads no clock.
    pub fn build_bundle(&self, version: u64, created_unix: i64, key: &SigningKey) -> Vec<u8> {
        bundle::write_signed(&self.compile(), version, created_unix, key)
    }

    /// An unsigned bundle, which [`crate::verify_and_load`] refuses. For
    /// tests and for signing elsewhere.
    pub fn build_unsigned(&self, version: u64, created_unix: i64) -> Vec<u8> {
        bundle::write_unsigned(&self.compile(), version, created_unix)
    }
}

/// `add_feed` just pushed, so the list cannot be empty; this keeps that
/// fact out of an `unwrap`.
#[cold]
fn unreachable_feed() -> &'static ParsedFeed {
    static EMPTY: std::sync::OnceLock<ParsedFeed> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ParsedFeed::default)
}
