//! NFQUEUE netlink messages (linux/netfilter/nfnetlink_queue.h), sans-I/O.
//!
//! Netlink headers are in host order; nfnetlink's `res_id` and every NFQUEUE
//! attribute value are in network order. Decoding never trusts a length field:
//! a malformed message is an error, never a panic or an out-of-bounds read.

use thiserror::Error;

pub const NETLINK_NETFILTER: i32 = 12;

const NLMSG_HDRLEN: usize = 16;
const NFGEN_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLA_F_NESTED: u16 = 1 << 15;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQNL_MSG_VERDICT_BATCH: u16 = 3;

const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_MARK: u16 = 3;
const NFQA_TIMESTAMP: u16 = 4;
const NFQA_IFINDEX_INDEV: u16 = 5;
const NFQA_IFINDEX_OUTDEV: u16 = 6;
const NFQA_IFINDEX_PHYSINDEV: u16 = 7;
const NFQA_IFINDEX_PHYSOUTDEV: u16 = 8;
const NFQA_HWADDR: u16 = 9;
const NFQA_PAYLOAD: u16 = 10;
const NFQA_CT: u16 = 11;
const NFQA_CT_INFO: u16 = 12;
const NFQA_CAP_LEN: u16 = 13;
const NFQA_SKB_INFO: u16 = 14;

const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;

const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_CFG_CMD_UNBIND: u8 = 2;
const NFQNL_COPY_PACKET: u8 = 2;

/// conntrack attributes inside NFQA_CT (linux/netfilter/nfnetlink_conntrack.h).
const CTA_MARK: u16 = 8;
const CTA_MARK_MASK: u16 = 21;

/// `NFQA_SKB_INFO` bits.
pub const SKB_CSUMNOTREADY: u32 = 1;
pub const SKB_GSO: u32 = 2;
pub const SKB_CSUM_NOTVERIFIED: u32 = 4;

/// Queue behaviour flags (`NFQA_CFG_FLAGS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigFlags(pub u32);

impl ConfigFlags {
    /// Accept instead of drop when the queue is full.
    pub const FAIL_OPEN: ConfigFlags = ConfigFlags(1);
    /// Include the conntrack entry (its mark) with each packet.
    pub const CONNTRACK: ConfigFlags = ConfigFlags(2);
    /// Take GSO super-packets whole instead of having the kernel segment them.
    pub const GSO: ConfigFlags = ConfigFlags(4);

    pub const fn union(self, o: ConfigFlags) -> ConfigFlags {
        ConfigFlags(self.0 | o.0)
    }

    pub const fn contains(self, o: ConfigFlags) -> bool {
        self.0 & o.0 == o.0
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("netlink message truncated: header says {claimed} bytes, {available} available")]
    Truncated { claimed: usize, available: usize },
    #[error("netlink attribute {attr} malformed")]
    BadAttribute { attr: u16 },
    #[error("queued packet without NFQA_PACKET_HDR")]
    NoPacketHeader,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    Accept,
    Drop,
}

impl VerdictKind {
    fn code(self) -> u32 {
        match self {
            VerdictKind::Drop => 0,
            VerdictKind::Accept => 1,
        }
    }
}

/// The verdict for one queued packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict<'a> {
    pub id: u32,
    pub kind: VerdictKind,
    /// Set the packet mark.
    pub mark: Option<u32>,
    /// Set these bits of the conntrack mark (others are kept).
    pub connmark_bits: Option<u32>,
    /// Replace the packet with these bytes (an IP packet).
    pub payload: Option<&'a [u8]>,
}

impl Verdict<'_> {
    pub fn accept(id: u32) -> Verdict<'static> {
        Verdict { id, kind: VerdictKind::Accept, mark: None, connmark_bits: None, payload: None }
    }
    pub fn drop(id: u32) -> Verdict<'static> {
        Verdict { id, kind: VerdictKind::Drop, mark: None, connmark_bits: None, payload: None }
    }
    /// A verdict that a batch verdict can stand for.
    pub fn is_plain(&self) -> bool {
        self.mark.is_none() && self.connmark_bits.is_none() && self.payload.is_none()
    }
}

/// A packet handed to user space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packet<'a> {
    pub queue: u16,
    pub id: u32,
    /// Ethertype of the payload (0x0800 IPv4, 0x86dd IPv6).
    pub hw_protocol: u16,
    pub hook: u8,
    pub mark: Option<u32>,
    pub indev: Option<u32>,
    pub outdev: Option<u32>,
    /// On a bridge: the port the packet came in on / goes out of.
    pub physindev: Option<u32>,
    pub physoutdev: Option<u32>,
    /// Source MAC address, when the packet came from an Ethernet device.
    pub hwaddr: Option<[u8; 6]>,
    /// The network-layer packet (no link header), possibly a GSO super-packet.
    pub payload: &'a [u8],
    pub ct_mark: Option<u32>,
    pub ct_info: Option<u32>,
    /// Original length when the payload was truncated by the copy range.
    pub cap_len: Option<u32>,
    pub skb_info: u32,
    /// Kernel receive time, when the kernel stamped the packet.
    pub timestamp: Option<(u64, u64)>,
}

impl Packet<'_> {
    pub fn is_gso(&self) -> bool {
        self.skb_info & SKB_GSO != 0
    }
}

/// One message from the kernel.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Packet(Packet<'a>),
    /// An acknowledgement (`errno == 0`) or error for request `seq`.
    Ack {
        seq: u32,
        errno: i32,
    },
    /// Anything else (NOOP, DONE, other subsystems).
    Other,
}

/// Iterate over the netlink messages in one datagram.
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages { rest: buf }
}

pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes(self.rest[0..4].try_into().unwrap_or_default()) as usize;
        if len < NLMSG_HDRLEN || len > self.rest.len() {
            let available = self.rest.len();
            self.rest = &[];
            return Some(Err(ParseError::Truncated { claimed: len, available }));
        }
        let msg = &self.rest[..len];
        self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
        let ty = u16::from_ne_bytes([msg[4], msg[5]]);
        let seq = u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
        let body = &msg[NLMSG_HDRLEN..];
        Some(match ty {
            NLMSG_ERROR => match body.get(0..4) {
                // The kernel sends -errno; any other value must not overflow.
                Some(e) => Ok(Message::Ack { seq, errno: i32::from_ne_bytes([e[0], e[1], e[2], e[3]]).wrapping_neg() }),
                None => Err(ParseError::Truncated { claimed: len, available: len }),
            },
            NLMSG_NOOP | NLMSG_DONE => Ok(Message::Other),
            t if t == (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET) => parse_packet(body).map(Message::Packet),
            _ => Ok(Message::Other),
        })
    }
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn be32(v: &[u8], attr: u16) -> Result<u32, ParseError> {
    v.get(0..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or(ParseError::BadAttribute { attr })
}

/// Attributes in `buf`: (type without flags, value).
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), ParseError>> {
    std::iter::from_fn(move || {
        if buf.len() < NLA_HDRLEN {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(ParseError::BadAttribute { attr: ty }));
        }
        let value = &buf[NLA_HDRLEN..len];
        buf = buf.get(align(len)..).unwrap_or(&[]);
        Some(Ok((ty, value)))
    })
}

fn parse_packet(body: &[u8]) -> Result<Packet<'_>, ParseError> {
    let Some(gen) = body.get(..NFGEN_HDRLEN) else {
        return Err(ParseError::Truncated { claimed: NFGEN_HDRLEN, available: body.len() });
    };
    let mut p = Packet { queue: u16::from_be_bytes([gen[2], gen[3]]), ..Packet::default() };
    let mut have_hdr = false;
    for a in attrs(&body[NFGEN_HDRLEN..]) {
        let (ty, v) = a?;
        match ty {
            NFQA_PACKET_HDR => {
                let h = v.get(0..7).ok_or(ParseError::BadAttribute { attr: ty })?;
                p.id = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                p.hw_protocol = u16::from_be_bytes([h[4], h[5]]);
                p.hook = h[6];
                have_hdr = true;
            }
            NFQA_MARK => p.mark = Some(be32(v, ty)?),
            NFQA_TIMESTAMP => {
                let t = v.get(0..16).ok_or(ParseError::BadAttribute { attr: ty })?;
                let sec = u64::from_be_bytes(t[0..8].try_into().unwrap_or_default());
                let usec = u64::from_be_bytes(t[8..16].try_into().unwrap_or_default());
                p.timestamp = Some((sec, usec));
            }
            NFQA_IFINDEX_INDEV => p.indev = Some(be32(v, ty)?),
            NFQA_IFINDEX_OUTDEV => p.outdev = Some(be32(v, ty)?),
            NFQA_IFINDEX_PHYSINDEV => p.physindev = Some(be32(v, ty)?),
            NFQA_IFINDEX_PHYSOUTDEV => p.physoutdev = Some(be32(v, ty)?),
            NFQA_HWADDR => {
                // struct nfqnl_msg_packet_hw { __be16 hw_addrlen; __u16 _pad; __u8 hw_addr[8]; }
                let h = v.get(0..12).ok_or(ParseError::BadAttribute { attr: ty })?;
                if u16::from_be_bytes([h[0], h[1]]) == 6 {
                    let mut mac = [0u8; 6];
                    mac.copy_from_slice(&h[4..10]);
                    p.hwaddr = Some(mac);
                }
            }
            NFQA_PAYLOAD => p.payload = v,
            NFQA_CT => {
                for ca in attrs(v) {
                    let (cty, cv) = ca?;
                    if cty == CTA_MARK {
                        p.ct_mark = Some(be32(cv, NFQA_CT)?);
                    }
                }
            }
            NFQA_CT_INFO => p.ct_info = Some(be32(v, ty)?),
            NFQA_CAP_LEN => p.cap_len = Some(be32(v, ty)?),
            NFQA_SKB_INFO => p.skb_info = be32(v, ty)?,
            _ => {}
        }
    }
    if have_hdr {
        Ok(p)
    } else {
        Err(ParseError::NoPacketHeader)
    }
}

/// Appends netlink messages to a buffer; one buffer can hold many messages
/// and goes to the kernel in one `send`.
struct Writer<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
}

impl<'b> Writer<'b> {
    fn begin(buf: &'b mut Vec<u8>, msg: u16, flags: u16, seq: u32, family: u8, queue: u16) -> Writer<'b> {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&(NFNL_SUBSYS_QUEUE << 8 | msg).to_ne_bytes());
        buf.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&[family, 0]);
        buf.extend_from_slice(&queue.to_be_bytes());
        Writer { buf, start }
    }

    fn attr(&mut self, ty: u16, value: &[u8]) {
        let len = NLA_HDRLEN + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len() + (align(len) - len), 0);
    }

    /// Starts a nested attribute; returns its offset for [`Writer::end_nest`].
    fn begin_nest(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        at
    }

    fn end_nest(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn end(self) {
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

/// Bind (or unbind) this socket to queue `queue`; asks for an acknowledgement.
pub fn config_bind(buf: &mut Vec<u8>, seq: u32, queue: u16, bind: bool) {
    let mut w = Writer::begin(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, seq, libc::AF_UNSPEC as u8, queue);
    let cmd = if bind { NFQNL_CFG_CMD_BIND } else { NFQNL_CFG_CMD_UNBIND };
    // struct nfqnl_msg_config_cmd { __u8 command; __u8 _pad; __be16 pf; }
    w.attr(NFQA_CFG_CMD, &[cmd, 0, 0, 0]);
    w.end();
}

/// Copy whole packets (up to `copy_range` bytes), queue length and flags.
pub fn config_params(buf: &mut Vec<u8>, seq: u32, queue: u16, copy_range: u32, maxlen: u32, flags: ConfigFlags) {
    let mut w = Writer::begin(buf, NFQNL_MSG_CONFIG, NLM_F_ACK, seq, libc::AF_UNSPEC as u8, queue);
    // struct nfqnl_msg_config_params { __be32 copy_range; __u8 copy_mode; } (packed, 5 bytes)
    let mut params = copy_range.to_be_bytes().to_vec();
    params.push(NFQNL_COPY_PACKET);
    w.attr(NFQA_CFG_PARAMS, &params);
    w.attr(NFQA_CFG_QUEUE_MAXLEN, &maxlen.to_be_bytes());
    let all = ConfigFlags::FAIL_OPEN.union(ConfigFlags::CONNTRACK).union(ConfigFlags::GSO);
    w.attr(NFQA_CFG_MASK, &all.0.to_be_bytes());
    w.attr(NFQA_CFG_FLAGS, &flags.0.to_be_bytes());
    w.end();
}

/// One verdict message.
pub fn verdict(buf: &mut Vec<u8>, queue: u16, v: &Verdict<'_>) {
    let mut w = Writer::begin(buf, NFQNL_MSG_VERDICT, 0, 0, libc::AF_UNSPEC as u8, queue);
    let mut hdr = [0u8; 8];
    hdr[..4].copy_from_slice(&v.kind.code().to_be_bytes());
    hdr[4..].copy_from_slice(&v.id.to_be_bytes());
    w.attr(NFQA_VERDICT_HDR, &hdr);
    if let Some(m) = v.mark {
        w.attr(NFQA_MARK, &m.to_be_bytes());
    }
    if let Some(bits) = v.connmark_bits {
        // CTA_MARK_MASK makes the kernel change only these bits:
        // new = (old & ~mask) ^ mark.
        let at = w.begin_nest(NFQA_CT);
        w.attr(CTA_MARK, &bits.to_be_bytes());
        w.attr(CTA_MARK_MASK, &bits.to_be_bytes());
        w.end_nest(at);
    }
    if let Some(p) = v.payload {
        w.attr(NFQA_PAYLOAD, p);
    }
    w.end();
}

/// One verdict for every packet of the queue with an id up to `id`.
pub fn verdict_batch(buf: &mut Vec<u8>, queue: u16, id: u32, kind: VerdictKind) {
    let mut w = Writer::begin(buf, NFQNL_MSG_VERDICT_BATCH, 0, 0, libc::AF_UNSPEC as u8, queue);
    let mut hdr = [0u8; 8];
    hdr[..4].copy_from_slice(&kind.code().to_be_bytes());
    hdr[4..].copy_from_slice(&id.to_be_bytes());
    w.attr(NFQA_VERDICT_HDR, &hdr);
    w.end();
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A queued-packet message as the kernel writes it.
    pub(crate) fn packet_msg(queue: u16, id: u32, payload: &[u8], extra: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = Writer::begin(&mut buf, NFQNL_MSG_PACKET, 0, 0, libc::AF_INET as u8, queue);
        let mut hdr = id.to_be_bytes().to_vec();
        hdr.extend_from_slice(&0x0800u16.to_be_bytes());
        hdr.push(2);
        w.attr(NFQA_PACKET_HDR, &hdr);
        for (t, v) in extra {
            w.attr(*t, v);
        }
        w.attr(NFQA_PAYLOAD, payload);
        w.end();
        buf
    }

    #[test]
    fn decodes_a_queued_packet_with_bridge_ports_mac_and_connmark() {
        let mut hw = 6u16.to_be_bytes().to_vec();
        hw.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 1, 0, 0]);
        let mut ct = Vec::new();
        ct.extend_from_slice(&8u16.to_ne_bytes());
        ct.extend_from_slice(&CTA_MARK.to_ne_bytes());
        ct.extend_from_slice(&5u32.to_be_bytes());
        let mut buf = packet_msg(
            3,
            77,
            b"\x45\x00payload",
            &[
                (NFQA_IFINDEX_PHYSINDEV, 4u32.to_be_bytes().to_vec()),
                (NFQA_IFINDEX_PHYSOUTDEV, 5u32.to_be_bytes().to_vec()),
                (NFQA_HWADDR, hw),
                (NFQA_CT | NLA_F_NESTED, ct),
                (NFQA_SKB_INFO, SKB_GSO.to_be_bytes().to_vec()),
            ],
        );
        buf.extend(packet_msg(3, 78, b"x", &[]));
        let msgs: Vec<_> = messages(&buf).collect();
        assert_eq!(msgs.len(), 2);
        let Ok(Message::Packet(p)) = &msgs[0] else { panic!("{msgs:?}") };
        assert_eq!((p.queue, p.id, p.hw_protocol, p.hook), (3, 77, 0x0800, 2));
        assert_eq!((p.physindev, p.physoutdev), (Some(4), Some(5)));
        assert_eq!(p.hwaddr, Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(p.ct_mark, Some(5));
        assert!(p.is_gso());
        assert_eq!(p.payload, b"\x45\x00payload");
        let Ok(Message::Packet(p2)) = &msgs[1] else { panic!() };
        assert_eq!(p2.id, 78);
    }

    #[test]
    fn truncated_and_lying_lengths_are_errors_not_panics() {
        let buf = packet_msg(0, 1, b"abc", &[]);
        for cut in 0..buf.len() {
            let _ = messages(&buf[..cut]).count();
        }
        let mut lie = buf.clone();
        lie[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(matches!(messages(&lie).next(), Some(Err(ParseError::Truncated { .. }))));
        // An attribute claiming more than the message holds.
        let mut bad = buf.clone();
        let at = NLMSG_HDRLEN + NFGEN_HDRLEN;
        bad[at..at + 2].copy_from_slice(&500u16.to_ne_bytes());
        assert!(matches!(messages(&bad).next(), Some(Err(ParseError::BadAttribute { .. }))));
    }

    #[test]
    fn error_messages_become_acks() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&36u32.to_ne_bytes());
        buf.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        buf.extend_from_slice(&0u16.to_ne_bytes());
        buf.extend_from_slice(&9u32.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&(-16i32).to_ne_bytes());
        buf.extend_from_slice(&[0u8; 16]);
        assert_eq!(messages(&buf).next(), Some(Ok(Message::Ack { seq: 9, errno: 16 })));
        // Found by fuzz_inline: i32::MIN must not overflow when negated.
        buf[16..20].copy_from_slice(&i32::MIN.to_ne_bytes());
        assert!(matches!(messages(&buf).next(), Some(Ok(Message::Ack { .. }))));
    }

    #[test]
    fn verdict_with_connmark_and_payload_encodes_nested_ct() {
        let mut buf = Vec::new();
        let v = Verdict {
            id: 0x01020304,
            kind: VerdictKind::Accept,
            mark: None,
            connmark_bits: Some(1),
            payload: Some(b"\x45abc"),
        };
        verdict(&mut buf, 2, &v);
        assert_eq!(buf.len() % 4, 0);
        assert_eq!(u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize, buf.len());
        assert_eq!(u16::from_ne_bytes([buf[4], buf[5]]), NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_VERDICT);
        assert_eq!(&buf[18..20], &2u16.to_be_bytes());
        let found: Vec<(u16, Vec<u8>)> =
            attrs(&buf[NLMSG_HDRLEN + NFGEN_HDRLEN..]).map(|a| a.map(|(t, v)| (t, v.to_vec())).unwrap()).collect();
        assert_eq!(found[0], (NFQA_VERDICT_HDR, vec![0, 0, 0, 1, 1, 2, 3, 4]));
        assert_eq!(found[1].0, NFQA_CT);
        let inner: Vec<_> = attrs(&found[1].1).map(|a| a.unwrap()).collect();
        assert_eq!(inner, vec![(CTA_MARK, &[0, 0, 0, 1][..]), (CTA_MARK_MASK, &[0, 0, 0, 1][..])]);
        assert_eq!(found[2], (NFQA_PAYLOAD, b"\x45abc".to_vec()));
    }

    #[test]
    fn config_params_ask_for_whole_packets_and_the_flags() {
        let mut buf = Vec::new();
        config_params(&mut buf, 5, 1, 0xffff, 4096, ConfigFlags::FAIL_OPEN.union(ConfigFlags::GSO));
        let found: Vec<(u16, Vec<u8>)> =
            attrs(&buf[NLMSG_HDRLEN + NFGEN_HDRLEN..]).map(|a| a.map(|(t, v)| (t, v.to_vec())).unwrap()).collect();
        assert_eq!(found[0], (NFQA_CFG_PARAMS, vec![0, 0, 0xff, 0xff, NFQNL_COPY_PACKET]));
        assert_eq!(found[1], (NFQA_CFG_QUEUE_MAXLEN, 4096u32.to_be_bytes().to_vec()));
        assert_eq!(found[3], (NFQA_CFG_FLAGS, 5u32.to_be_bytes().to_vec()));
        let flags = u16::from_ne_bytes([buf[6], buf[7]]);
        assert_eq!(flags & NLM_F_ACK, NLM_F_ACK);
    }
}
