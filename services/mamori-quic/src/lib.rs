//! QUIC parser (work in progress).
