//! TLS parser (work in progress).
