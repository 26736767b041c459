//! The `mamori-intel` binary end to end: keygen, build, verify, lookup.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mamori-intel"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mamori-intel-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn keygen_build_verify_lookup() {
    let d = tmpdir("flow");
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    run(bin().arg("keygen").arg("--out").arg(d.join("k")));
    run(bin()
        .args(["build", "--version", "5", "--created", "1714651200", "--key"])
        .arg(d.join("k.key"))
        .arg("--source")
        .arg(format!("hosts=urlhaus-hostfile:{}", fx.join("urlhaus_hostfile.txt").display()))
        .arg("--source")
        .arg(format!("drop=spamhaus-drop-txt:{}", fx.join("spamhaus_drop.txt").display()))
        .arg("--out")
        .arg(d.join("b.bundle")));
    let v = run(bin().arg("verify").arg("--key").arg(d.join("k.pub")).arg(d.join("b.bundle")));
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["version"], 5);
    assert_eq!(v["created_unix"], 1714651200);

    let l = run(bin()
        .args(["lookup", "--domain", "x.malware-host.example", "--key"])
        .arg(d.join("k.pub"))
        .arg("--bundle")
        .arg(d.join("b.bundle")));
    let l: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(l["action"], "block");
    assert_eq!(l["matches"][0]["list"], "hosts");

    let l = run(bin()
        .args(["lookup", "--domain", "www.5ch.net", "--key"])
        .arg(d.join("k.pub"))
        .arg("--bundle")
        .arg(d.join("b.bundle")));
    let l: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(l["matches"][0]["category"], "forum", "built-in Japanese supplement is included");

    // Rollback refused by `verify --current`.
    let out = bin()
        .arg("verify")
        .arg("--key")
        .arg(d.join("k.pub"))
        .args(["--current", "5"])
        .arg(d.join("b.bundle"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not newer"));
    let _ = std::fs::remove_dir_all(&d);
}
