#![no_main]
//! Rule language: rule files (split in two at a point the first byte picks),
//! classification.config, threshold.config, variable overrides and groups.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_rules::fuzzing::run(data);
});
