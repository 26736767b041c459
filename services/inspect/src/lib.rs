//! I/O around the engine: capture files in, EVE files out, rules loaded.

pub mod capture;
pub mod replay;
pub mod rules;
