//! Finding the physical wired NICs for `wan = "auto"` / `lan = "auto"`.
//!
//! Netlink does not say whether a link is a physical device, so this reads sysfs: a NIC backed by
//! hardware has a `device` link, a wireless one has `wireless` or `phy80211`, and Ethernet has type 1.

use std::io;
use std::path::{Path, PathBuf};

/// Where the kernel lists a network namespace's links (`ip netns exec` remounts it per namespace).
pub const SYS_CLASS_NET: &str = "/sys/class/net";

const ARPHRD_ETHER: u32 = 1;

/// A wired physical NIC, with the bus path that orders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    pub name: String,
    /// Resolved `device` link, e.g. `/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0`.
    pub bus_path: PathBuf,
}

/// The wired physical NICs under `sys_class_net`, in bus order (then by name), so that the
/// first is the same port on every boot of the same box.
pub fn wired_nics(sys_class_net: &Path) -> io::Result<Vec<Nic>> {
    let mut nics = Vec::new();
    for entry in std::fs::read_dir(sys_class_net)? {
        let entry = entry?;
        let dir = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        // A link can vanish between readdir and these reads: treat it as absent.
        let Ok(bus_path) = std::fs::canonicalize(dir.join("device")) else { continue };
        if dir.join("wireless").exists() || dir.join("phy80211").exists() {
            continue;
        }
        let link_type = std::fs::read_to_string(dir.join("type")).ok().and_then(|t| t.trim().parse::<u32>().ok());
        if link_type != Some(ARPHRD_ETHER) {
            continue;
        }
        nics.push(Nic { name, bus_path });
    }
    nics.sort_by(|a, b| a.bus_path.cmp(&b.bus_path).then_with(|| a.name.cmp(&b.name)));
    Ok(nics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Lays out a fake sysfs: `devices/<bus>` directories and `class/net/<name>` entries.
    fn nic(root: &Path, name: &str, bus: Option<&str>, link_type: u32, extra: Option<&str>) {
        let dir = root.join("class/net").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("type"), format!("{link_type}\n")).unwrap();
        if let Some(bus) = bus {
            let dev = root.join("devices").join(bus);
            std::fs::create_dir_all(&dev).unwrap();
            symlink(&dev, dir.join("device")).unwrap();
        }
        if let Some(extra) = extra {
            std::fs::create_dir_all(dir.join(extra)).unwrap();
        }
    }

    #[test]
    fn picks_wired_physical_nics_in_bus_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        // Names deliberately out of bus order: the bus decides.
        nic(root, "enp3s0", Some("pci0000:00/0000:00:1c.1/0000:03:00.0"), 1, None);
        nic(root, "enp2s0", Some("pci0000:00/0000:00:1c.0/0000:02:00.0"), 1, None);
        nic(root, "wlp4s0", Some("pci0000:00/0000:00:1c.2/0000:04:00.0"), 1, Some("wireless"));
        nic(root, "wlan1", Some("pci0000:00/usb1/1-1"), 1, Some("phy80211"));
        nic(root, "ib0", Some("pci0000:00/0000:00:1d.0/0000:05:00.0"), 32, None);
        nic(root, "lo", None, 772, None);
        nic(root, "veth0", None, 1, None);
        nic(root, "mamori0", None, 1, None);

        let nics = wired_nics(&root.join("class/net")).unwrap();
        let names: Vec<_> = nics.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["enp2s0", "enp3s0"]);
    }

    #[test]
    fn missing_sysfs_is_an_error() {
        assert!(wired_nics(Path::new("/nonexistent/class/net")).is_err());
    }
}
