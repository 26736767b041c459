//! Shares repeated strings (metadata keys and values, reference types)
//! between the rules of a load: ET's 25k rules repeat a few hundred.

use std::collections::HashSet;
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct Interner {
    set: HashSet<Arc<str>>,
}

/// Past this many distinct strings new ones are not remembered, so a load
/// of unique values cannot grow the table without bound.
const MAX_INTERNED: usize = 1 << 16;

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        if self.set.len() < MAX_INTERNED {
            self.set.insert(Arc::clone(&a));
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_equal_strings() {
        let mut i = Interner::default();
        let a = i.get("created_at");
        let b = i.get("created_at");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*i.get("x"), "x");
    }
}
