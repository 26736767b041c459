//! A mail being received: its MIME parser and transaction id.

use mamori_applayer::{Direction, ParseCtx};

use crate::event::MailEvent;
use crate::mime::{MailSummary, MimeParser};

#[derive(Debug)]
pub struct ActiveMail {
    pub tx_id: u64,
    /// Boxed: the parser is a few hundred bytes and modes holding an
    /// `ActiveMail` should stay small.
    mime: Box<MimeParser>,
    pub bytes: u64,
}

impl ActiveMail {
    pub fn new(dir: Direction, tx_id: u64) -> ActiveMail {
        ActiveMail { tx_id, mime: Box::new(MimeParser::new(dir, tx_id)), bytes: 0 }
    }

    pub fn feed(&mut self, data: &[u8], ctx: &mut ParseCtx<'_, MailEvent>) {
        self.bytes = self.bytes.saturating_add(data.len() as u64);
        self.mime.feed(data, ctx.files);
        ctx.events.extend(self.mime.take_anomalies().into_iter().map(MailEvent::Anomaly));
    }

    pub fn finish(mut self, complete: bool, ctx: &mut ParseCtx<'_, MailEvent>) -> MailSummary {
        self.mime.finish(complete, ctx.files);
        ctx.events.extend(self.mime.take_anomalies().into_iter().map(MailEvent::Anomaly));
        (*self.mime).into_summary()
    }
}
