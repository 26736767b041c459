#![no_main]
//! DNS: `parse_message`, the probes and the TCP stream parser, with the
//! first input bytes choosing chunk sizes, directions and gaps.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mamori_dns::fuzzing::run(data);
});
