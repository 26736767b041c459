//! Replays every input in `tests/regressions/` (crashes found by fuzzing)
//! through the fuzz targets' paths: files named `mime-*` through the MIME
//! parser (`fuzz_mime`), all others through the protocol parsers
//! (`fuzz_smtp`).

use std::path::Path;

#[test]
fn regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir") {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
        if name == ".gitkeep" {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if name.starts_with("mime-") {
            mamori_mail::fuzzing::run_mime(&data);
        } else {
            mamori_mail::fuzzing::run_protocols(&data);
        }
        n += 1;
    }
    println!("{n} regression inputs replayed");
}
