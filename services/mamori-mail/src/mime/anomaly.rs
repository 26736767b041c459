//! MIME anomalies, each reported at most once per mail.

use mamori_applayer::Anomaly;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MimeAnomaly {
    InvalidHeader,
    HeaderTooLong,
    HeaderBlockTooLarge,
    NestingTooDeep,
    MissingBoundaryParam,
    BoundaryTooLong,
    MissingFinalBoundary,
    UnclosedNestedMultipart,
    BoundaryInHeaders,
    TooManyAttachments,
    InvalidBase64,
}

impl MimeAnomaly {
    pub fn name(self) -> &'static str {
        match self {
            MimeAnomaly::InvalidHeader => "invalid_header",
            MimeAnomaly::HeaderTooLong => "header_too_long",
            MimeAnomaly::HeaderBlockTooLarge => "header_block_too_large",
            MimeAnomaly::NestingTooDeep => "nesting_too_deep",
            MimeAnomaly::MissingBoundaryParam => "multipart_without_boundary",
            MimeAnomaly::BoundaryTooLong => "boundary_too_long",
            MimeAnomaly::MissingFinalBoundary => "missing_final_boundary",
            MimeAnomaly::UnclosedNestedMultipart => "unclosed_nested_multipart",
            MimeAnomaly::BoundaryInHeaders => "boundary_in_headers",
            MimeAnomaly::TooManyAttachments => "too_many_attachments",
            MimeAnomaly::InvalidBase64 => "invalid_base64",
        }
    }
}

/// Remembers which anomalies were raised so each is reported once.
#[derive(Debug, Default)]
pub struct AnomalySet {
    seen: u32,
    pending: Vec<Anomaly>,
}

impl AnomalySet {
    pub fn raise(&mut self, a: MimeAnomaly) {
        let bit = 1u32 << (a as u8);
        if self.seen & bit == 0 {
            self.seen |= bit;
            self.pending.push(Anomaly::new("mime", a.name()));
        }
    }

    pub fn take(&mut self) -> Vec<Anomaly> {
        std::mem::take(&mut self.pending)
    }
}
