//! br_netfilter: what hands bridged IPv4/IPv6 to the inet table.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

pub const PROC_SYS: &str = "/proc/sys";
/// Both must be 1 for bridged traffic to traverse the inet hooks (per network namespace).
pub const SYSCTLS: [&str; 2] = ["net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"];

#[derive(Debug, Error)]
pub enum BrnfError {
    #[error(
        "br_netfilter is not loaded and `modprobe br_netfilter` failed ({0}); bridged traffic bypasses \
         the table: no blocklists, no inspection. Load it at boot (boot.kernelModules)"
    )]
    Module(String),
    #[error("cannot set {key} = 1: {source}")]
    Sysctl { key: PathBuf, source: io::Error },
}

/// Loads br_netfilter if its sysctls are absent, then sets the sysctls to 1 where they aren't.
pub fn ensure(proc_sys: &Path) -> Result<(), BrnfError> {
    if !proc_sys.join("net/bridge").exists() {
        let detail = match Command::new("modprobe").arg("br_netfilter").output() {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
            Err(e) => Some(e.to_string()),
        };
        if !proc_sys.join("net/bridge").exists() {
            return Err(BrnfError::Module(detail.unwrap_or_else(|| "no net.bridge sysctls after loading".into())));
        }
    }
    for key in SYSCTLS {
        let path = proc_sys.join(key);
        let current =
            std::fs::read_to_string(&path).map_err(|source| BrnfError::Sysctl { key: path.clone(), source })?;
        if current.trim() != "1" {
            std::fs::write(&path, "1\n").map_err(|source| BrnfError::Sysctl { key: path.clone(), source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_only_what_is_not_already_set() {
        let dir = tempfile::tempdir().unwrap();
        let bridge = dir.path().join("net/bridge");
        std::fs::create_dir_all(&bridge).unwrap();
        std::fs::write(bridge.join("bridge-nf-call-iptables"), "0\n").unwrap();
        std::fs::write(bridge.join("bridge-nf-call-ip6tables"), "1\n").unwrap();
        ensure(dir.path()).unwrap();
        for key in SYSCTLS {
            assert_eq!(std::fs::read_to_string(dir.path().join(key)).unwrap().trim(), "1");
        }
    }

    #[test]
    fn a_missing_sysctl_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net/bridge")).unwrap();
        let e = ensure(dir.path()).unwrap_err();
        assert!(e.to_string().contains("bridge-nf-call-iptables"), "{e}");
    }
}
