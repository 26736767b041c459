#![no_main]
//! Every link type, then IP, then transport, on arbitrary bytes.
use libfuzzer_sys::fuzz_target;
use mamori_wire::{ip, link, transport, tunnel, LinkType};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let links = [
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::CiscoHdlc,
        LinkType::Ppp,
        LinkType::Ipv6,
    ];
    let lt = links[usize::from(sel) % links.len()];
    if let Ok(f) = link::decode(lt, rest) {
        if let Ok(dg) = ip::decode_any(f.payload) {
            let _ = transport::decode(dg.proto, dg.payload);
            if dg.proto == tunnel::PROTO_GRE {
                let _ = tunnel::gre(dg.payload);
            }
        }
    }
});
