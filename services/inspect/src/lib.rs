//! I/O around the engine: capture files in, EVE files out, rules loaded.

pub mod capture;
pub mod config;
pub mod inline;
pub mod replay;
pub mod rules;
