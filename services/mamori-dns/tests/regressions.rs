//! Replays every input in `tests/regressions/` (crashes found by fuzzing)
//! through the same path as `fuzz_dns`.

use std::path::Path;

#[test]
fn regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir") {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|f| f == ".gitkeep") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        mamori_dns::fuzzing::run(&data);
        n += 1;
    }
    println!("{n} regression inputs replayed");
}
