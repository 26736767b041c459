//! The bridge, decided without I/O: which links are the ports, and what must change so that the bridge
//! exists with both ports enslaved and up. `plan` only ever adds what is missing, so running it on a
//! converged system yields nothing and a link that is up is never taken down (no flapping).

use std::fmt;

use ipnet::IpNet;
use thiserror::Error;

use crate::config::{BridgeConfig, IfName, MacAddr, PortSelector};

/// 300 s in USER_HZ (the unit of IFLA_BR_AGEING_TIME), the kernel's default.
pub const AGEING_TIME: u32 = 30_000;
/// Forward LLDP (01:80:c2:00:00:0e) across the bridge so router and switch still see each other, as a
/// cable would. STP BPDUs are forwarded anyway while STP is off; the kernel refuses bits 0-2.
pub const GROUP_FWD_MASK: u16 = 1 << 0x0e;

/// The bridge options netd owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeAttrs {
    pub stp: bool,
    /// USER_HZ.
    pub forward_delay: u32,
    /// USER_HZ.
    pub ageing_time: u32,
    pub group_fwd_mask: u16,
    /// Per-bridge switches for handing bridged IPv4/IPv6 to the inet hooks; set besides the global sysctls
    /// so bridged traffic reaches the table even where /proc/sys is read-only (systemd sandbox).
    pub nf_call_iptables: bool,
    pub nf_call_ip6tables: bool,
}

impl BridgeAttrs {
    /// What a freshly created bridge gets: STP off and no forward delay, so ports forward the moment they
    /// are up (an inline device has exactly two ports and no loop to break).
    pub const DESIRED: BridgeAttrs = BridgeAttrs {
        stp: false,
        forward_delay: 0,
        ageing_time: AGEING_TIME,
        group_fwd_mask: GROUP_FWD_MASK,
        nf_call_iptables: true,
        nf_call_ip6tables: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    Bridge(BridgeAttrs),
    /// `IFLA_INFO_KIND` of a virtual link (veth, vlan, bond, ...).
    Virtual(String),
    /// No kind: a hardware NIC.
    Physical,
}

/// One link as observed over netlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub name: String,
    pub kind: LinkKind,
    pub mac: Option<MacAddr>,
    /// The burned-in address, unchanged when a driver or bond rewrites `mac`.
    pub perm_mac: Option<MacAddr>,
    /// `IFLA_MASTER`.
    pub controller: Option<u32>,
    /// IFF_UP: administratively up.
    pub admin_up: bool,
    /// IFF_LOWER_UP: carrier.
    pub lower_up: bool,
    pub mtu: u32,
    pub addresses: Vec<IpNet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Wan,
    Lan,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Wan => "WAN",
            Role::Lan => "LAN",
        })
    }
}

/// A resolved bridge port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub role: Role,
    pub index: u32,
    pub name: String,
}

/// What the bridge should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bridge: IfName,
    pub ports: [Port; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    #[error("{role} port {selector}: no such interface")]
    NotFound { role: Role, selector: PortSelector },
    #[error("{role} port {selector}: several interfaces have this address ({names})")]
    AmbiguousMac { role: Role, selector: PortSelector, names: String },
    #[error("{role} port {selector}: {name} is a {kind} device, not a NIC")]
    Unsuitable { role: Role, selector: PortSelector, name: String, kind: String },
    #[error("WAN and LAN both resolve to {name}")]
    SamePort { name: String },
    #[error(
        "\"auto\" needs {needed} more wired NIC(s) with a PCI or USB device; found {found:?} \
         (set bridge.wan and bridge.lan to interface names or MACs)"
    )]
    NotEnoughNics { needed: usize, found: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("{role} port {name} disappeared")]
    PortGone { role: Role, name: String },
    #[error("{name} exists but is a {kind} link, not a bridge; rename or delete it")]
    NameTaken { name: String, kind: String },
}

/// Link kinds stacked on top of other links: never a bridge port by MAC, since they share the lower
/// link's address.
const UPPER_KINDS: &[&str] = &["bond", "team", "vlan", "macvlan", "macvtap", "ipvlan", "ipvtap", "vrf", "hsr"];

fn kind_name(kind: &LinkKind) -> Option<&str> {
    match kind {
        LinkKind::Bridge(_) => Some("bridge"),
        LinkKind::Virtual(k) => Some(k),
        LinkKind::Physical => None,
    }
}

/// Resolves WAN and LAN. Explicit selectors are taken first; each `auto` then takes the next of
/// `auto_nics` (wired NICs in bus order) not already taken, WAN before LAN.
pub fn resolve_ports(links: &[LinkState], auto_nics: &[String], cfg: &BridgeConfig) -> Result<[Port; 2], ResolveError> {
    let explicit = |role: Role, sel: &PortSelector| -> Result<Option<&LinkState>, ResolveError> {
        let link = match sel {
            PortSelector::Auto => return Ok(None),
            PortSelector::Name(n) => links
                .iter()
                .find(|l| l.name == n.as_str())
                .ok_or_else(|| ResolveError::NotFound { role, selector: sel.clone() })?,
            PortSelector::Mac(m) => {
                let lower = |l: &&LinkState| !matches!(kind_name(&l.kind), Some(k) if k == "bridge" || UPPER_KINDS.contains(&k));
                let by_perm: Vec<&LinkState> = links.iter().filter(lower).filter(|l| l.perm_mac == Some(*m)).collect();
                let found = if by_perm.is_empty() {
                    links.iter().filter(lower).filter(|l| l.mac == Some(*m)).collect()
                } else {
                    by_perm
                };
                match *found.as_slice() {
                    [] => return Err(ResolveError::NotFound { role, selector: sel.clone() }),
                    [one] => one,
                    ref many => {
                        let names = many.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ");
                        return Err(ResolveError::AmbiguousMac { role, selector: sel.clone(), names });
                    }
                }
            }
        };
        if let Some(kind) = kind_name(&link.kind).filter(|k| *k == "bridge" || UPPER_KINDS.contains(k)) {
            return Err(ResolveError::Unsuitable {
                role,
                selector: sel.clone(),
                name: link.name.clone(),
                kind: kind.to_owned(),
            });
        }
        Ok(Some(link))
    };

    let wan = explicit(Role::Wan, &cfg.wan)?;
    let lan = explicit(Role::Lan, &cfg.lan)?;
    let taken: Vec<u32> = wan.iter().chain(lan.iter()).map(|l| l.index).collect();
    let mut free = auto_nics
        .iter()
        .filter_map(|name| links.iter().find(|l| &l.name == name))
        .filter(|l| l.name != cfg.name.as_str() && !taken.contains(&l.index));
    let needed = usize::from(wan.is_none()) + usize::from(lan.is_none());
    let not_enough = || ResolveError::NotEnoughNics { needed, found: auto_nics.to_vec() };
    let wan = match wan {
        Some(l) => l,
        None => free.next().ok_or_else(not_enough)?,
    };
    let lan = match lan {
        Some(l) => l,
        None => free.next().ok_or_else(not_enough)?,
    };
    if wan.index == lan.index {
        return Err(ResolveError::SamePort { name: wan.name.clone() });
    }
    let port = |role, l: &LinkState| Port { role, index: l.index, name: l.name.clone() };
    Ok([port(Role::Wan, wan), port(Role::Lan, lan)])
}

/// A link an action applies to. Ports are addressed by index (stable while the device exists); the
/// bridge by name, because on a first run it doesn't have an index yet when the plan is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dev {
    Port { index: u32, name: String },
    Bridge { name: String },
}

impl fmt::Display for Dev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dev::Port { name, .. } | Dev::Bridge { name } => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Created down, with [`BridgeAttrs::DESIRED`].
    CreateBridge {
        name: String,
    },
    /// Apply [`BridgeAttrs::DESIRED`] to an existing bridge.
    ConfigureBridge {
        name: String,
    },
    Enslave {
        port: u32,
        port_name: String,
        bridge: String,
    },
    SetMtu {
        dev: Dev,
        mtu: u32,
    },
    SetUp {
        dev: Dev,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateBridge { name } => write!(f, "create bridge {name}"),
            Action::ConfigureBridge { name } => write!(f, "set {name} stp off, forward delay 0, ageing 300 s"),
            Action::Enslave { port_name, bridge, .. } => write!(f, "enslave {port_name} to {bridge}"),
            Action::SetMtu { dev, mtu } => write!(f, "set {dev} mtu {mtu}"),
            Action::SetUp { dev } => write!(f, "set {dev} up"),
        }
    }
}

/// Things worth telling the operator that netd deliberately does not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A port with an address answers on its own behalf next to the bridge; addressing belongs on the bridge.
    PortHasAddress { port: String, address: IpNet },
    /// Frames larger than the smaller MTU are dropped by the bridge on the way out.
    MtuMismatch { wan: (String, u32), lan: (String, u32) },
    /// A link netd didn't choose is a member of the bridge; it is left alone.
    ForeignPort { port: String },
    /// The port was a member of another master (bond, other bridge) and is moved.
    MovedFromMaster { port: String, master: String },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::PortHasAddress { port, address } => {
                write!(f, "port {port} carries address {address}; addresses belong on the bridge")
            }
            Note::MtuMismatch { wan, lan } => write!(
                f,
                "port MTUs differ ({} {}, {} {}): larger frames are dropped at the smaller port",
                wan.0, wan.1, lan.0, lan.1
            ),
            Note::ForeignPort { port } => {
                write!(f, "{port} is a member of the bridge but not a configured port; left alone")
            }
            Note::MovedFromMaster { port, master } => {
                write!(f, "{port} was a member of {master}; moving it to the bridge")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub notes: Vec<Note>,
}

/// Resolves the ports for `cfg` and plans. `auto_nics` are the wired NIC names in bus order.
pub fn plan_for(observed: &[LinkState], auto_nics: &[String], cfg: &BridgeConfig) -> Result<(Target, Plan), PlanError> {
    let ports = resolve_ports(observed, auto_nics, cfg)?;
    let target = Target { bridge: cfg.name.clone(), ports };
    let plan = plan(observed, &target)?;
    Ok((target, plan))
}

/// The actions that take `observed` to `target`, in the order they must run.
pub fn plan(observed: &[LinkState], target: &Target) -> Result<Plan, PlanError> {
    let name = target.bridge.as_str();
    let mut out = Plan::default();
    let bridge = observed.iter().find(|l| l.name == name);
    let bridge_dev = || Dev::Bridge { name: name.to_owned() };

    let bridge_index = match bridge {
        None => {
            out.actions.push(Action::CreateBridge { name: name.to_owned() });
            None
        }
        Some(LinkState { kind: LinkKind::Bridge(attrs), index, .. }) => {
            if *attrs != BridgeAttrs::DESIRED {
                out.actions.push(Action::ConfigureBridge { name: name.to_owned() });
            }
            Some(*index)
        }
        Some(other) => {
            return Err(PlanError::NameTaken {
                name: name.to_owned(),
                kind: kind_name(&other.kind).unwrap_or("physical").to_owned(),
            })
        }
    };

    let ports: Vec<&LinkState> = target
        .ports
        .iter()
        .map(|p| {
            observed
                .iter()
                .find(|l| l.index == p.index)
                .ok_or_else(|| PlanError::PortGone { role: p.role, name: p.name.clone() })
        })
        .collect::<Result<_, _>>()?;

    for port in &ports {
        if bridge_index.is_none() || port.controller != bridge_index {
            if let Some(master) = port.controller.and_then(|c| observed.iter().find(|l| l.index == c)) {
                out.notes.push(Note::MovedFromMaster { port: port.name.clone(), master: master.name.clone() });
            }
            out.actions.push(Action::Enslave {
                port: port.index,
                port_name: port.name.clone(),
                bridge: name.to_owned(),
            });
        }
    }
    for port in &ports {
        if !port.admin_up {
            out.actions.push(Action::SetUp { dev: Dev::Port { index: port.index, name: port.name.clone() } });
        }
    }

    if let (Some(bridge), Some(index)) = (bridge, bridge_index) {
        // The bridge takes the smallest MTU of its members; a user-set bridge MTU stops the kernel from
        // following, so put it back. A new bridge gets this from the kernel as ports join.
        let members =
            observed.iter().filter(|l| l.controller == Some(index) && !ports.iter().any(|p| p.index == l.index));
        let min_mtu = ports.iter().copied().chain(members.clone()).map(|l| l.mtu).min();
        if let Some(mtu) = min_mtu.filter(|m| *m != bridge.mtu) {
            out.actions.push(Action::SetMtu { dev: bridge_dev(), mtu });
        }
        for foreign in members {
            out.notes.push(Note::ForeignPort { port: foreign.name.clone() });
        }
    }
    if !bridge.is_some_and(|b| b.admin_up) {
        out.actions.push(Action::SetUp { dev: bridge_dev() });
    }

    if ports[0].mtu != ports[1].mtu {
        out.notes.push(Note::MtuMismatch {
            wan: (ports[0].name.clone(), ports[0].mtu),
            lan: (ports[1].name.clone(), ports[1].mtu),
        });
    }
    for port in &ports {
        for address in port.addresses.iter().filter(|a| !is_link_local(a)) {
            out.notes.push(Note::PortHasAddress { port: port.name.clone(), address: *address });
        }
    }
    Ok(out)
}

/// IPv6 link-local addresses appear on every up link by default and are harmless enough not to nag about.
fn is_link_local(net: &IpNet) -> bool {
    match net {
        IpNet::V6(n) => (n.addr().segments()[0] & 0xffc0) == 0xfe80,
        IpNet::V4(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(index: u32, name: &str, mac: u8) -> LinkState {
        LinkState {
            index,
            name: name.into(),
            kind: LinkKind::Physical,
            mac: Some(MacAddr([2, 0, 0, 0, 0, mac])),
            perm_mac: Some(MacAddr([2, 0, 0, 0, 0, mac])),
            controller: None,
            admin_up: false,
            lower_up: false,
            mtu: 1500,
            addresses: vec![],
        }
    }

    fn bridge(index: u32, name: &str) -> LinkState {
        LinkState {
            kind: LinkKind::Bridge(BridgeAttrs::DESIRED),
            mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            perm_mac: None,
            admin_up: true,
            lower_up: true,
            ..nic(index, name, 0)
        }
    }

    fn cfg(wan: &str, lan: &str) -> BridgeConfig {
        BridgeConfig { name: "mamori0".parse().unwrap(), wan: wan.parse().unwrap(), lan: lan.parse().unwrap() }
    }

    fn auto() -> Vec<String> {
        vec!["enp1s0".into(), "enp2s0".into()]
    }

    /// What the kernel looks like after the first run's actions.
    fn converged() -> Vec<LinkState> {
        let mut wan = nic(2, "enp1s0", 2);
        let mut lan = nic(3, "enp2s0", 3);
        for p in [&mut wan, &mut lan] {
            p.controller = Some(10);
            p.admin_up = true;
            p.lower_up = true;
        }
        vec![nic(1, "lo", 0), wan, lan, bridge(10, "mamori0")]
    }

    #[test]
    fn first_run_creates_enslaves_and_brings_up() {
        let observed = vec![nic(1, "lo", 0), nic(2, "enp1s0", 2), nic(3, "enp2s0", 3)];
        let (target, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(target.ports[0].name, "enp1s0");
        assert_eq!(target.ports[1].name, "enp2s0");
        let port = |index, name: &str| Dev::Port { index, name: name.into() };
        let br = Dev::Bridge { name: "mamori0".into() };
        assert_eq!(
            plan.actions,
            vec![
                Action::CreateBridge { name: "mamori0".into() },
                Action::Enslave { port: 2, port_name: "enp1s0".into(), bridge: "mamori0".into() },
                Action::Enslave { port: 3, port_name: "enp2s0".into(), bridge: "mamori0".into() },
                Action::SetUp { dev: port(2, "enp1s0") },
                Action::SetUp { dev: port(3, "enp2s0") },
                Action::SetUp { dev: br },
            ]
        );
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    }

    #[test]
    fn converged_state_yields_no_actions() {
        let (_, plan) = plan_for(&converged(), &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn a_port_that_is_down_gets_only_set_up() {
        let mut observed = converged();
        observed[2].admin_up = false;
        observed[2].lower_up = false;
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(plan.actions, vec![Action::SetUp { dev: Dev::Port { index: 3, name: "enp2s0".into() } }]);
    }

    #[test]
    fn no_carrier_is_not_something_to_fix() {
        let mut observed = converged();
        observed[1].lower_up = false;
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert!(plan.actions.is_empty());
    }

    #[test]
    fn a_port_released_from_the_bridge_is_enslaved_again() {
        let mut observed = converged();
        observed[1].controller = None;
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(
            plan.actions,
            vec![Action::Enslave { port: 2, port_name: "enp1s0".into(), bridge: "mamori0".into() }]
        );
    }

    #[test]
    fn a_port_that_reappears_with_a_new_index_is_enslaved() {
        let mut observed = converged();
        observed[1] = nic(42, "enp1s0", 2);
        let (target, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(target.ports[0].index, 42);
        assert_eq!(
            plan.actions,
            vec![
                Action::Enslave { port: 42, port_name: "enp1s0".into(), bridge: "mamori0".into() },
                Action::SetUp { dev: Dev::Port { index: 42, name: "enp1s0".into() } },
            ]
        );
    }

    #[test]
    fn bridge_options_and_mtu_are_restored() {
        let mut observed = converged();
        observed[3].kind = LinkKind::Bridge(BridgeAttrs { stp: true, forward_delay: 1500, ..BridgeAttrs::DESIRED });
        observed[3].mtu = 9000;
        observed[3].admin_up = false;
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        let br = Dev::Bridge { name: "mamori0".into() };
        assert_eq!(
            plan.actions,
            vec![
                Action::ConfigureBridge { name: "mamori0".into() },
                Action::SetMtu { dev: br.clone(), mtu: 1500 },
                Action::SetUp { dev: br },
            ]
        );
    }

    #[test]
    fn notes_for_addresses_mtu_mismatch_and_foreign_ports() {
        let mut observed = converged();
        observed[1].addresses = vec!["192.0.2.5/24".parse().unwrap(), "fe80::1/64".parse().unwrap()];
        observed[2].mtu = 9000;
        let mut extra = nic(7, "dummy0", 7);
        extra.controller = Some(10);
        extra.mtu = 1400;
        observed.push(extra);
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        // The bridge follows the smallest member, foreign ones included.
        assert_eq!(plan.actions, vec![Action::SetMtu { dev: Dev::Bridge { name: "mamori0".into() }, mtu: 1400 }]);
        assert!(plan.notes.contains(&Note::ForeignPort { port: "dummy0".into() }));
        assert!(plan.notes.iter().any(|n| matches!(n, Note::MtuMismatch { .. })));
        let addrs: Vec<_> = plan.notes.iter().filter(|n| matches!(n, Note::PortHasAddress { .. })).collect();
        assert_eq!(addrs.len(), 1, "link-local is not reported: {addrs:?}");
    }

    #[test]
    fn explicit_names_and_macs() {
        let mut observed = vec![nic(2, "eth0", 2), nic(3, "eth1", 3), nic(4, "eth2", 4)];
        // eth1's current MAC was rewritten; the permanent one still identifies it.
        observed[1].mac = Some(MacAddr([2, 0, 0, 0, 0, 9]));
        let ports = resolve_ports(&observed, &[], &cfg("eth2", "02:00:00:00:00:03")).unwrap();
        assert_eq!((ports[0].name.as_str(), ports[1].name.as_str()), ("eth2", "eth1"));
        let ports = resolve_ports(&observed, &[], &cfg("02:00:00:00:00:09", "eth0")).unwrap();
        assert_eq!((ports[0].name.as_str(), ports[1].name.as_str()), ("eth1", "eth0"));
    }

    #[test]
    fn mac_skips_the_bridge_and_vlans_sharing_it() {
        let mut vlan = nic(5, "eth0.10", 2);
        vlan.kind = LinkKind::Virtual("vlan".into());
        vlan.perm_mac = None;
        let mut br = bridge(10, "mamori0");
        br.mac = Some(MacAddr([2, 0, 0, 0, 0, 2]));
        let observed = vec![nic(2, "eth0", 2), nic(3, "eth1", 3), vlan, br];
        let ports = resolve_ports(&observed, &[], &cfg("02:00:00:00:00:02", "eth1")).unwrap();
        assert_eq!(ports[0].name, "eth0");
    }

    #[test]
    fn auto_fills_around_an_explicit_port() {
        let observed = vec![nic(2, "enp1s0", 2), nic(3, "enp2s0", 3)];
        let ports = resolve_ports(&observed, &auto(), &cfg("auto", "enp1s0")).unwrap();
        assert_eq!((ports[0].name.as_str(), ports[1].name.as_str()), ("enp2s0", "enp1s0"));
    }

    #[test]
    fn resolution_errors_are_clear() {
        let observed = vec![nic(2, "enp1s0", 2), bridge(10, "br9")];
        let e = resolve_ports(&observed, &["enp1s0".into()], &cfg("auto", "auto")).unwrap_err();
        assert_eq!(e, ResolveError::NotEnoughNics { needed: 2, found: vec!["enp1s0".into()] });
        assert!(e.to_string().contains("wired NIC"), "{e}");
        let e = resolve_ports(&observed, &[], &cfg("eth7", "enp1s0")).unwrap_err();
        assert_eq!(e.to_string(), "WAN port eth7: no such interface");
        let e = resolve_ports(&observed, &[], &cfg("enp1s0", "br9")).unwrap_err();
        assert!(matches!(e, ResolveError::Unsuitable { role: Role::Lan, .. }), "{e}");
        let e = resolve_ports(&observed, &[], &cfg("enp1s0", "02:00:00:00:00:02")).unwrap_err();
        assert_eq!(e, ResolveError::SamePort { name: "enp1s0".into() });
        let twins = vec![nic(2, "a", 2), nic(3, "b", 2)];
        let e = resolve_ports(&twins, &[], &cfg("02:00:00:00:00:02", "b")).unwrap_err();
        assert!(matches!(e, ResolveError::AmbiguousMac { .. }), "{e}");
    }

    #[test]
    fn a_non_bridge_with_the_bridge_name_is_refused() {
        let mut observed = vec![nic(2, "enp1s0", 2), nic(3, "enp2s0", 3), nic(4, "mamori0", 4)];
        observed[2].kind = LinkKind::Virtual("dummy".into());
        let e = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap_err();
        assert_eq!(e, PlanError::NameTaken { name: "mamori0".into(), kind: "dummy".into() });
    }

    #[test]
    fn a_port_in_another_master_is_moved_with_a_note() {
        let mut observed = converged();
        observed.push(bridge(11, "br-old"));
        observed[1].controller = Some(11);
        let (_, plan) = plan_for(&observed, &auto(), &cfg("auto", "auto")).unwrap();
        assert_eq!(
            plan.actions,
            vec![Action::Enslave { port: 2, port_name: "enp1s0".into(), bridge: "mamori0".into() }]
        );
        assert_eq!(plan.notes, vec![Note::MovedFromMaster { port: "enp1s0".into(), master: "br-old".into() }]);
    }
}
