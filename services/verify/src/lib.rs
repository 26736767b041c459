//! Scoring against suricata-verify cases.
//!
//! A case is a folder with `test.yaml`, a capture and usually rules. Its
//! checks are filters over EVE records: "exactly `count` records match all
//! of these dotted-path values". This crate runs a case's capture through
//! the engine and evaluates the checks that are in scope:
//!
//! - [`Scope::Alerts`]: checks on `event_type: alert` with an
//!   `alert.signature_id`, as the IPS scoring in `shared/testdata` defines:
//!   the number of alerts with that signature id must equal `count` (the
//!   check's other keys are not compared);
//! - [`Scope::Fields`]: checks on parsed protocol fields (`http`,
//!   `fileinfo`, `dns`, `tls`, `smtp`, `quic` events).
//!
//! Checks for older engines (`requires: lt-version` at or below 8) are
//! skipped, as are cases whose `requires: min-version` is above 8.

pub mod case;
pub mod check;
pub mod score;

pub use case::{Case, CaseError};
pub use check::{Check, Filter};
pub use score::{run_case, CaseOutcome, Scope};
