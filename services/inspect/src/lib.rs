//! I/O around the engine: capture files in, EVE files out.

pub mod capture;
pub mod replay;
