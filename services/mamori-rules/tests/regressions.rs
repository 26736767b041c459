//! Replays every input in `tests/regressions/` (crashes found by fuzzing)
//! through the same path as `fuzz_rules`.

use std::path::Path;

#[test]
fn regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir") {
        let path = entry.expect("dir entry").path();
        if path.file_name().is_some_and(|f| f == ".gitkeep") {
            continue;
        }
        let data = std::fs::read(&path).expect("read regression input");
        mamori_rules::fuzzing::run(&data);
        n += 1;
    }
    println!("{n} regression inputs replayed");
}
