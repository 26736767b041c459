//! Streaming, sans-I/O HTTP/1.0 and HTTP/1.1 parser in the spirit of
//! Suricata's libhtp.
//!
//! [`HttpParser`] implements [`mamori_applayer::StreamParser`]: it takes the
//! bytes of each direction in order, reports [`HttpEvent`]s, keeps an
//! [`HttpTx`] per request/response exchange, and streams de-chunked,
//! decompressed bodies into the engine's `FileSink`. [`probe`] tells from the
//! first bytes whether a direction speaks HTTP.
//!
//! Parsing is as lenient as libhtp (and the browsers it imitates) because an
//! IDS must see what the browser sees: see the README for the rules.

pub mod anomaly;
mod body;
mod chunked;
pub mod config;
pub mod decompress;
mod eol;
mod event;
mod filename;
mod framing;
#[doc(hidden)]
pub mod fuzzing;
mod head;
pub mod headers;
mod parser;
mod probe;
mod resync;
mod startline;
mod tx;
pub mod uri;

pub use anomaly::HttpAnomaly;
pub use body::BodyProgress;
pub use config::HttpConfig;
pub use event::HttpEvent;
pub use framing::Coding;
pub use headers::Header;
pub use parser::HttpParser;
pub use probe::probe;
pub use startline::HttpVersion;
pub use tx::{HttpEve, HttpRequest, HttpResponse, HttpTx, Progress};
