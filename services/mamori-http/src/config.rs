//! Limits and switches. Defaults follow Suricata's libhtp defaults where one
//! exists.

/// Parser configuration. Every buffer the parser keeps is bounded by one of
/// these numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest start line plus header block (or chunked trailer) buffered per
    /// message. Bigger heads are reported and the direction resynchronises.
    pub max_head_bytes: usize,
    /// Most header lines in one head.
    pub max_header_lines: usize,
    /// Transactions kept alive at once (pipelined requests waiting for their
    /// responses). One more is reported and parsing stops.
    pub max_transactions: usize,
    /// Most Content-Encoding layers decoded on one body, like Suricata's
    /// `response-body-decompress-layer-limit`.
    pub decompress_layer_limit: usize,
    /// Most decoded bytes produced from one compressed body.
    pub decompress_max_output: u64,
    /// Largest decoded/encoded ratio tolerated once more than
    /// `decompress_ratio_min_output` bytes were produced.
    pub decompress_max_ratio: u64,
    /// Output size below which the ratio is not checked (small bodies
    /// legitimately compress very well).
    pub decompress_ratio_min_output: u64,
    /// Decode Content-Encoding on request bodies too (libhtp: off by default).
    pub decompress_requests: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_head_bytes: 64 * 1024,
            max_header_lines: 1024,
            max_transactions: 64,
            decompress_layer_limit: 3,
            decompress_max_output: 50 * 1024 * 1024,
            decompress_max_ratio: 2048,
            decompress_ratio_min_output: 1024 * 1024,
            decompress_requests: false,
        }
    }
}
