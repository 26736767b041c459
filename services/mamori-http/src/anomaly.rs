//! Anomalies this parser reports, named as Suricata names its HTTP app-layer
//! events so that rules and dashboards written for Suricata keep working.

use mamori_applayer::Anomaly;

/// Layer name put in every [`Anomaly`] this crate emits.
pub const LAYER: &str = "http";

/// Everything odd the parser can notice. Each maps to one stable event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpAnomaly {
    RequestLineInvalid,
    RequestLineLeadingWhitespace,
    RequestLineMissingProtocol,
    RequestFieldTooLong,
    ResponseFieldTooLong,
    RequestTooManyHeaders,
    ResponseTooManyHeaders,
    RequestHeaderInvalid,
    ResponseHeaderInvalid,
    RequestFieldMissingColon,
    ResponseFieldMissingColon,
    InvalidRequestFieldFolding,
    InvalidResponseFieldFolding,
    RequestInvalidLwsAfterName,
    ResponseInvalidLwsAfterName,
    /// Line endings other than CRLF/LF (lone CR, LF CR, ...).
    DeformedEol,
    /// A head that `httparse` (RFC 9112 strict) rejects but we accepted.
    RequestNotRfcCompliant,
    ResponseNotRfcCompliant,
    MissingHostHeader,
    HostHeaderAmbiguous,
    InvalidContentLengthFieldInRequest,
    InvalidContentLengthFieldInResponse,
    DuplicateContentLengthFieldInRequest,
    DuplicateContentLengthFieldInResponse,
    InvalidTransferEncodingValueInRequest,
    InvalidTransferEncodingValueInResponse,
    ResponseAbnormalTransferEncoding,
    ResponseChunkedOldProto,
    /// Both Transfer-Encoding: chunked and Content-Length (smuggling risk).
    RequestSmuggling,
    InvalidRequestChunkLen,
    InvalidResponseChunkLen,
    RequestChunkExtension,
    ResponseInvalidProtocol,
    ResponseInvalidStatus,
    /// Junk line before a status line was skipped.
    ResponseLineJunk,
    /// Response without a status line: body until close (HTTP/0.9 style).
    ResponseHttp09,
    UnableToMatchResponseToRequest,
    ContinueAlreadySeen,
    AbnormalCeHeader,
    TooManyEncodingLayers,
    /// Decoding failed at the start; the raw bytes were passed through.
    DecompressionPassthrough,
    /// Decoding failed after output began; the file was truncated.
    DecompressionFailed,
    CompressionBomb,
    TooManyTransactions,
    /// A gap hit a header block; the parser resynchronises.
    GapInHeaders,
    /// A gap hit a body; its file is truncated.
    GapInBody,
    /// The direction ended in the middle of a message.
    TruncatedMessage,
}

impl HttpAnomaly {
    pub const fn name(self) -> &'static str {
        use HttpAnomaly::*;
        match self {
            RequestLineInvalid => "REQUEST_LINE_INVALID",
            RequestLineLeadingWhitespace => "REQUEST_LINE_LEADING_WHITESPACE",
            RequestLineMissingProtocol => "REQUEST_LINE_MISSING_PROTOCOL",
            RequestFieldTooLong => "REQUEST_FIELD_TOO_LONG",
            ResponseFieldTooLong => "RESPONSE_FIELD_TOO_LONG",
            RequestTooManyHeaders => "REQUEST_TOO_MANY_HEADERS",
            ResponseTooManyHeaders => "RESPONSE_TOO_MANY_HEADERS",
            RequestHeaderInvalid => "REQUEST_HEADER_INVALID",
            ResponseHeaderInvalid => "RESPONSE_HEADER_INVALID",
            RequestFieldMissingColon => "REQUEST_FIELD_MISSING_COLON",
            ResponseFieldMissingColon => "RESPONSE_FIELD_MISSING_COLON",
            InvalidRequestFieldFolding => "INVALID_REQUEST_FIELD_FOLDING",
            InvalidResponseFieldFolding => "INVALID_RESPONSE_FIELD_FOLDING",
            RequestInvalidLwsAfterName => "REQUEST_INVALID_LWS_AFTER_NAME",
            ResponseInvalidLwsAfterName => "RESPONSE_INVALID_LWS_AFTER_NAME",
            DeformedEol => "DEFORMED_EOL",
            RequestNotRfcCompliant => "REQUEST_NOT_RFC_COMPLIANT",
            ResponseNotRfcCompliant => "RESPONSE_NOT_RFC_COMPLIANT",
            MissingHostHeader => "MISSING_HOST_HEADER",
            HostHeaderAmbiguous => "HOST_HEADER_AMBIGUOUS",
            InvalidContentLengthFieldInRequest => "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST",
            InvalidContentLengthFieldInResponse => "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            DuplicateContentLengthFieldInRequest => "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST",
            DuplicateContentLengthFieldInResponse => "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            InvalidTransferEncodingValueInRequest => "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST",
            InvalidTransferEncodingValueInResponse => "INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE",
            ResponseAbnormalTransferEncoding => "RESPONSE_ABNORMAL_TRANSFER_ENCODING",
            ResponseChunkedOldProto => "RESPONSE_CHUNKED_OLD_PROTO",
            RequestSmuggling => "REQUEST_SMUGGLING",
            InvalidRequestChunkLen => "INVALID_REQUEST_CHUNK_LEN",
            InvalidResponseChunkLen => "INVALID_RESPONSE_CHUNK_LEN",
            RequestChunkExtension => "REQUEST_CHUNK_EXTENSION",
            ResponseInvalidProtocol => "RESPONSE_INVALID_PROTOCOL",
            ResponseInvalidStatus => "RESPONSE_INVALID_STATUS",
            ResponseLineJunk => "RESPONSE_LINE_JUNK",
            ResponseHttp09 => "RESPONSE_HTTP_0_9",
            UnableToMatchResponseToRequest => "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST",
            ContinueAlreadySeen => "100_CONTINUE_ALREADY_SEEN",
            AbnormalCeHeader => "ABNORMAL_CE_HEADER",
            TooManyEncodingLayers => "TOO_MANY_ENCODING_LAYERS",
            DecompressionPassthrough => "DECOMPRESSION_PASSTHROUGH",
            DecompressionFailed => "GZIP_DECOMPRESSION_FAILED",
            CompressionBomb => "COMPRESSION_BOMB",
            TooManyTransactions => "TOO_MANY_TRANSACTIONS",
            GapInHeaders => "GAP_IN_HEADERS",
            GapInBody => "GAP_IN_BODY",
            TruncatedMessage => "TRUNCATED_MESSAGE",
        }
    }
}

impl From<HttpAnomaly> for Anomaly {
    fn from(a: HttpAnomaly) -> Anomaly {
        Anomaly::new(LAYER, a.name())
    }
}

/// Collects anomalies while a pure helper runs, so helpers need not know
/// about the event vector.
#[derive(Default, Debug)]
pub(crate) struct Anomalies(Vec<HttpAnomaly>);

impl Anomalies {
    pub(crate) fn push(&mut self, a: HttpAnomaly) {
        // A hostile head can trigger the same anomaly per line; report each
        // kind once per head so the event vector stays small.
        if !self.0.contains(&a) {
            self.0.push(a);
        }
    }

    pub(crate) fn drain(&mut self) -> impl Iterator<Item = HttpAnomaly> + '_ {
        self.0.drain(..)
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, a: HttpAnomaly) -> bool {
        self.0.contains(&a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_upper_case_and_tagged_http() {
        use HttpAnomaly::*;
        let all = [
            RequestLineInvalid,
            RequestLineLeadingWhitespace,
            RequestLineMissingProtocol,
            RequestFieldTooLong,
            ResponseFieldTooLong,
            RequestTooManyHeaders,
            ResponseTooManyHeaders,
            RequestHeaderInvalid,
            ResponseHeaderInvalid,
            RequestFieldMissingColon,
            ResponseFieldMissingColon,
            InvalidRequestFieldFolding,
            InvalidResponseFieldFolding,
            RequestInvalidLwsAfterName,
            ResponseInvalidLwsAfterName,
            DeformedEol,
            RequestNotRfcCompliant,
            ResponseNotRfcCompliant,
            MissingHostHeader,
            HostHeaderAmbiguous,
            InvalidContentLengthFieldInRequest,
            InvalidContentLengthFieldInResponse,
            DuplicateContentLengthFieldInRequest,
            DuplicateContentLengthFieldInResponse,
            InvalidTransferEncodingValueInRequest,
            InvalidTransferEncodingValueInResponse,
            ResponseAbnormalTransferEncoding,
            ResponseChunkedOldProto,
            RequestSmuggling,
            InvalidRequestChunkLen,
            InvalidResponseChunkLen,
            RequestChunkExtension,
            ResponseInvalidProtocol,
            ResponseInvalidStatus,
            ResponseLineJunk,
            ResponseHttp09,
            UnableToMatchResponseToRequest,
            ContinueAlreadySeen,
            AbnormalCeHeader,
            TooManyEncodingLayers,
            DecompressionPassthrough,
            DecompressionFailed,
            CompressionBomb,
            TooManyTransactions,
            GapInHeaders,
            GapInBody,
            TruncatedMessage,
        ];
        let mut names: Vec<&str> = all.iter().map(|a| a.name()).collect();
        assert!(names.iter().all(|n| n.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        let a: Anomaly = CompressionBomb.into();
        assert_eq!((a.layer, a.event), ("http", "COMPRESSION_BOMB"));
    }

    #[test]
    fn each_kind_is_collected_once() {
        let mut an = Anomalies::default();
        an.push(HttpAnomaly::DeformedEol);
        an.push(HttpAnomaly::DeformedEol);
        an.push(HttpAnomaly::GapInBody);
        assert_eq!(an.drain().count(), 2);
    }
}
