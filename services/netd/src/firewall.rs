//! Converging the table and its sets through `nft -j`.

use std::net::{Ipv4Addr, Ipv6Addr};

use nftables::schema::Nftables;
use thiserror::Error;

use crate::blocklist::Blocklist;
use crate::config::Config;
use crate::intervals::diff;
use crate::nft::{Nft, NftError};
use crate::ruleset::{replace_batch, ruleset, set_elements, to_json, update_batch, Elements, Shape};

#[derive(Debug, Error)]
pub enum FirewallError {
    #[error(transparent)]
    Nft(#[from] NftError),
    #[error("table inet {0} is missing")]
    TableMissing(String),
    #[error("set {0} is missing from table inet {1}")]
    SetMissing(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOutcome {
    Unchanged,
    Created,
    /// It differed from the definition (edited by hand, or an older netd's); elements were kept.
    Replaced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetsOutcome {
    pub added: usize,
    pub removed: usize,
    /// Elements nft listed in a form netd can't read; they stay in the set.
    pub unreadable: usize,
}

/// The table netd owns.
pub struct Firewall {
    nft: Nft,
    cfg: Config,
    definition: Nftables<'static>,
    shape: Shape,
    /// The listing's shape right after netd loaded the table itself. Accepted as current even if some
    /// nft version prints a detail differently from the definition, so such a difference can't make
    /// netd replace the table on every check.
    loaded: Option<Shape>,
}

impl Firewall {
    /// The table from `cfg`, with one queue per CPU unless `queue_count` says otherwise.
    pub fn new(nft: Nft, cfg: &Config) -> Firewall {
        let definition = ruleset(cfg, cfg.ruleset.queues());
        Firewall::with_definition(nft, cfg, definition)
    }

    /// A firewall loading `definition`, which must define `cfg`'s table and sets.
    pub fn with_definition(nft: Nft, cfg: &Config, definition: Nftables<'static>) -> Firewall {
        let shape = Shape::of_definition(&definition);
        Firewall { nft, cfg: cfg.clone(), definition, shape, loaded: None }
    }

    fn table(&self) -> &str {
        &self.cfg.ruleset.table
    }

    /// Creates the table if it is missing and replaces it if it differs from the definition, in one
    /// transaction that keeps the current set elements.
    pub fn ensure_table(&mut self) -> Result<TableOutcome, FirewallError> {
        let outcome = match self.nft.list_table(self.table(), true)? {
            None => {
                self.load(&Elements::default())?;
                TableOutcome::Created
            }
            Some(listing) => {
                let shape = Shape::of_listing(&listing);
                if shape == self.shape || self.loaded.as_ref() == Some(&shape) {
                    return Ok(TableOutcome::Unchanged);
                }
                let full = self.nft.list_table(self.table(), false)?.unwrap_or_default();
                let r = &self.cfg.ruleset;
                let preserved = Elements {
                    v4: set_elements::<Ipv4Addr>(&full, &r.block_set_v4).map(|(e, _)| e).unwrap_or_default(),
                    v6: set_elements::<Ipv6Addr>(&full, &r.block_set_v6).map(|(e, _)| e).unwrap_or_default(),
                };
                self.load(&preserved)?;
                TableOutcome::Replaced
            }
        };
        let after = self
            .nft
            .list_table(self.table(), true)?
            .ok_or_else(|| FirewallError::TableMissing(self.table().to_owned()))?;
        let shape = Shape::of_listing(&after);
        if shape != self.shape {
            tracing::debug!(table = self.table(), "nft lists the loaded table differently from its definition");
        }
        self.loaded = Some(shape);
        Ok(outcome)
    }

    fn load(&self, preserved: &Elements) -> Result<(), FirewallError> {
        let batch = replace_batch(&self.cfg, &self.definition, preserved);
        self.nft.apply(&to_json(&batch), &format!("load table inet {}", self.table()))?;
        Ok(())
    }

    /// Brings the sets to `blocklist` in one transaction of element deletions and additions; the table
    /// stays loaded throughout and established flows are untouched.
    pub fn sync_sets(&self, blocklist: &Blocklist) -> Result<SetsOutcome, FirewallError> {
        let table = self.table().to_owned();
        let listing = self.nft.list_table(&table, false)?.ok_or_else(|| FirewallError::TableMissing(table.clone()))?;
        let r = &self.cfg.ruleset;
        let missing = |set: &str| FirewallError::SetMissing(set.to_owned(), table.clone());
        let (cur4, bad4) =
            set_elements::<Ipv4Addr>(&listing, &r.block_set_v4).ok_or_else(|| missing(&r.block_set_v4))?;
        let (cur6, bad6) =
            set_elements::<Ipv6Addr>(&listing, &r.block_set_v6).ok_or_else(|| missing(&r.block_set_v6))?;
        let d4 = diff(&cur4, &blocklist.v4);
        let d6 = diff(&cur6, &blocklist.v6);
        if let Some(batch) = update_batch(&self.cfg, &d4, &d6) {
            self.nft.apply(&to_json(&batch), &format!("update sets of inet {table}"))?;
        }
        Ok(SetsOutcome {
            added: d4.add.len() + d6.add.len(),
            removed: d4.delete.len() + d6.delete.len(),
            unreadable: bad4 + bad6,
        })
    }
}
