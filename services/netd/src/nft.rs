//! Running `nft -j`.
//!
//! Hand-written instead of `nftables::helper` because the helper lets nft's stderr through to ours
//! instead of returning it, and the error text is what an operator needs in the log. Listings are
//! returned as JSON values, not the crate's schema types, which can't read everything nft prints
//! (a queue rule with one flag, for one).

use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NftError {
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("nft {what} failed: {stderr}")]
    Failed { what: String, stderr: String },
    #[error("nft {what} printed invalid JSON: {source}")]
    Json { what: String, source: serde_json::Error },
}

/// How to invoke nft. The prefix lets tests run it inside a network namespace
/// (`ip netns exec NAME nft`).
#[derive(Debug, Clone)]
pub struct Nft {
    program: OsString,
    args: Vec<OsString>,
}

impl Default for Nft {
    fn default() -> Self {
        Nft { program: "nft".into(), args: Vec::new() }
    }
}

impl Nft {
    /// Runs `program` with `args` first; nft's own arguments follow.
    pub fn with_command(program: impl Into<OsString>, args: Vec<OsString>) -> Nft {
        Nft { program: program.into(), args }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args);
        c
    }

    fn program(&self) -> String {
        std::iter::once(&self.program).chain(&self.args).map(|s| s.to_string_lossy()).collect::<Vec<_>>().join(" ")
    }

    /// `nft -j [-t] list table inet NAME`; `None` if there is no such table. Terse (`-t`) leaves out set
    /// elements, which makes it cheap with large sets.
    pub fn list_table(&self, table: &str, terse: bool) -> Result<Option<Value>, NftError> {
        let what = format!("list table inet {table}");
        let mut c = self.command();
        c.arg("-j");
        if terse {
            c.arg("-t");
        }
        let out = c
            .args(["list", "table", "inet", table])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| NftError::Spawn { program: self.program(), source })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            if stderr.contains("No such file or directory") {
                return Ok(None);
            }
            return Err(NftError::Failed { what, stderr });
        }
        serde_json::from_slice(&out.stdout).map(Some).map_err(|source| NftError::Json { what, source })
    }

    /// `nft -j -f -`: one transaction, all or nothing.
    pub fn apply(&self, batch: &Value, what: &str) -> Result<(), NftError> {
        let payload = serde_json::to_vec(batch).map_err(|source| NftError::Json { what: what.to_owned(), source })?;
        let mut child = self
            .command()
            .args(["-j", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| NftError::Spawn { program: self.program(), source })?;
        // nft reads its whole input before it prints anything, so writing first can't deadlock.
        let written = child.stdin.take().map(|mut stdin| stdin.write_all(&payload));
        let out = child.wait_with_output().map_err(|source| NftError::Spawn { program: self.program(), source })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(NftError::Failed { what: what.to_owned(), stderr });
        }
        if let Some(Err(source)) = written {
            return Err(NftError::Spawn { program: self.program(), source });
        }
        Ok(())
    }
}
