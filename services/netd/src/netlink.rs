//! The bridge's I/O: observing links over rtnetlink and applying the planner's actions.

use std::collections::HashMap;
use std::path::Path;

use futures::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use rtnetlink::{Handle, LinkBridge, LinkMessageBuilder, LinkUnspec};
use thiserror::Error;

use crate::config::{BridgeConfig, MacAddr, PortSelector};
use crate::links::{plan_for, Action, BridgeAttrs, Dev, LinkKind, LinkState, Note, PlanError, Target};
use crate::nics::wired_nics;

#[derive(Debug, Error)]
pub enum BridgeError {
    #[error("netlink: {0}")]
    Observe(rtnetlink::Error),
    #[error("{action}: {source}")]
    Apply { action: String, source: rtnetlink::Error },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot list NICs for \"auto\" in {dir}: {source}")]
    Nics { dir: String, source: std::io::Error },
    #[error("{0} vanished while being configured")]
    Vanished(String),
    #[error("links do not converge; still pending: {0}")]
    NotConverging(String),
}

/// A link as one RTM_NEWLINK message describes it (addresses come separately).
pub fn link_state(msg: &LinkMessage) -> LinkState {
    let mut state = LinkState {
        index: msg.header.index,
        name: String::new(),
        kind: LinkKind::Physical,
        mac: None,
        perm_mac: None,
        controller: None,
        admin_up: msg.header.flags.contains(LinkFlags::Up),
        lower_up: msg.header.flags.contains(LinkFlags::LowerUp),
        mtu: 0,
        addresses: Vec::new(),
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => state.name.clone_from(n),
            LinkAttribute::Address(a) => state.mac = MacAddr::from_slice(a),
            LinkAttribute::PermAddress(a) => state.perm_mac = MacAddr::from_slice(a),
            LinkAttribute::Controller(c) if *c != 0 => state.controller = Some(*c),
            LinkAttribute::Mtu(m) => state.mtu = *m,
            LinkAttribute::LinkInfo(infos) => state.kind = kind(infos),
            _ => {}
        }
    }
    state
}

fn kind(infos: &[LinkInfo]) -> LinkKind {
    let mut kind = None;
    let mut data = None;
    for info in infos {
        match info {
            LinkInfo::Kind(k) => kind = Some(k),
            LinkInfo::Data(InfoData::Bridge(d)) => data = Some(d),
            _ => {}
        }
    }
    match kind {
        None => LinkKind::Physical,
        Some(InfoKind::Bridge) => {
            // Start from the opposite of what netd wants so a missing attribute reads as "to be set".
            let mut a = BridgeAttrs {
                stp: true,
                forward_delay: u32::MAX,
                ageing_time: u32::MAX,
                group_fwd_mask: !BridgeAttrs::DESIRED.group_fwd_mask,
                nf_call_iptables: false,
                nf_call_ip6tables: false,
            };
            for d in data.into_iter().flatten() {
                match d {
                    InfoBridge::StpState(s) => a.stp = *s != BridgeStpState::Disabled,
                    InfoBridge::ForwardDelay(v) => a.forward_delay = *v,
                    InfoBridge::AgeingTime(v) => a.ageing_time = *v,
                    InfoBridge::GroupFwdMask(v) => a.group_fwd_mask = *v,
                    InfoBridge::NfCallIpTables(v) => a.nf_call_iptables = *v,
                    InfoBridge::NfCallIp6Tables(v) => a.nf_call_ip6tables = *v,
                    _ => {}
                }
            }
            LinkKind::Bridge(a)
        }
        Some(other) => LinkKind::Virtual(other.to_string()),
    }
}

/// All links of this network namespace, with their addresses.
pub async fn observe(handle: &Handle) -> Result<Vec<LinkState>, BridgeError> {
    let mut links: Vec<LinkState> =
        handle.link().get().execute().map_ok(|m| link_state(&m)).try_collect().await.map_err(BridgeError::Observe)?;
    let mut addrs: HashMap<u32, Vec<IpNet>> = HashMap::new();
    let mut stream = handle.address().get().execute();
    while let Some(msg) = stream.try_next().await.map_err(BridgeError::Observe)? {
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
        let addr = msg
            .attributes
            .iter()
            .find_map(|a| if let AddressAttribute::Local(ip) = a { Some(*ip) } else { None })
            .or_else(|| {
                msg.attributes.iter().find_map(|a| if let AddressAttribute::Address(ip) = a { Some(*ip) } else { None })
            });
        if let Some(net) = addr.and_then(|ip| IpNet::new(ip, msg.header.prefix_len).ok()) {
            addrs.entry(msg.header.index).or_default().push(net);
        }
    }
    for l in &mut links {
        l.addresses = addrs.remove(&l.index).unwrap_or_default();
    }
    Ok(links)
}

async fn index_of(handle: &Handle, name: &str) -> Result<u32, BridgeError> {
    let mut s = handle.link().get().match_name(name.to_owned()).execute();
    match s.try_next().await {
        Ok(Some(m)) => Ok(m.header.index),
        Ok(None) | Err(rtnetlink::Error::NetlinkError(_)) => Err(BridgeError::Vanished(name.to_owned())),
        Err(e) => Err(BridgeError::Observe(e)),
    }
}

fn bridge_options(b: LinkMessageBuilder<LinkBridge>) -> LinkMessageBuilder<LinkBridge> {
    let want = BridgeAttrs::DESIRED;
    b.forward_delay(want.forward_delay)
        .ageing_time(want.ageing_time)
        .group_fwd_mask(want.group_fwd_mask)
        .nf_call_iptables(want.nf_call_iptables)
        .nf_call_ip6tables(want.nf_call_ip6tables)
}

/// Applies one action.
pub async fn apply(handle: &Handle, action: &Action) -> Result<(), BridgeError> {
    let failed = |source| BridgeError::Apply { action: action.to_string(), source };
    let link = handle.link();
    match action {
        Action::CreateBridge { name } => {
            // Created down: it comes up after its ports are in, so it never forwards half-built.
            let msg = bridge_options(LinkMessageBuilder::<LinkBridge>::new(name).stp_state(BridgeStpState::Disabled));
            link.add(msg.build()).execute().await.map_err(failed)
        }
        Action::ConfigureBridge { name } => {
            // STP off first, in its own request: the kernel refuses a forward delay of 0 while STP is on
            // and applies attributes in its own order.
            let stp = LinkMessageBuilder::<LinkBridge>::new(name).stp_state(BridgeStpState::Disabled);
            link.change(stp.build()).execute().await.map_err(failed)?;
            link.change(bridge_options(LinkMessageBuilder::<LinkBridge>::new(name)).build())
                .execute()
                .await
                .map_err(failed)
        }
        Action::Enslave { port, bridge, .. } => {
            let bridge = index_of(handle, bridge).await?;
            link.set(LinkUnspec::new_with_index(*port).controller(bridge).build()).execute().await.map_err(failed)
        }
        Action::SetMtu { dev, mtu } => link.set(unspec(dev).mtu(*mtu).build()).execute().await.map_err(failed),
        Action::SetUp { dev } => link.set(unspec(dev).up().build()).execute().await.map_err(failed),
    }
}

fn unspec(dev: &Dev) -> LinkMessageBuilder<LinkUnspec> {
    match dev {
        Dev::Port { index, .. } => LinkUnspec::new_with_index(*index),
        Dev::Bridge { name } => LinkUnspec::new_with_name(name),
    }
}

/// The result of one convergence.
#[derive(Debug, Clone)]
pub struct Converged {
    pub target: Target,
    /// Actions taken, in order; empty when everything already was as it should be.
    pub applied: Vec<Action>,
    pub notes: Vec<Note>,
    /// The links as first observed, before any action.
    pub initial: Vec<LinkState>,
}

/// Observes, plans and applies until nothing is left to do. Each round only adds what's missing,
/// so a few rounds suffice (the bridge needs an index before ports can join it).
pub async fn converge(handle: &Handle, cfg: &BridgeConfig, sys_class_net: &Path) -> Result<Converged, BridgeError> {
    const ROUNDS: usize = 4;
    let mut applied = Vec::new();
    let mut initial = None;
    let mut round = 0;
    loop {
        let observed = observe(handle).await?;
        let initial = initial.get_or_insert_with(|| observed.clone());
        let auto_nics = if cfg.wan == PortSelector::Auto || cfg.lan == PortSelector::Auto {
            wired_nics(sys_class_net)
                .map_err(|source| BridgeError::Nics { dir: sys_class_net.display().to_string(), source })?
                .into_iter()
                .map(|n| n.name)
                .collect()
        } else {
            Vec::new()
        };
        let (target, plan) = plan_for(&observed, &auto_nics, cfg)?;
        if plan.actions.is_empty() {
            return Ok(Converged { target, applied, notes: plan.notes, initial: std::mem::take(initial) });
        }
        if round == ROUNDS {
            let pending = plan.actions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            return Err(BridgeError::NotConverging(pending));
        }
        for action in plan.actions {
            tracing::info!(%action, "bridge");
            apply(handle, &action).await?;
            applied.push(action);
        }
        round += 1;
    }
}
