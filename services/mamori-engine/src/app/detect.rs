//! Recognising the app protocol from content, never from ports: HTTP on
//! 8080 or on 53 is still HTTP.

use mamori_applayer::{AppProto, Direction, Probe};

type StreamProbe = (AppProto, fn(Direction, &[u8]) -> Probe);

/// Stream protocols in the order they are tried. The cheap, distinctive
/// signatures (TLS record header, HTTP request line) come first.
pub(crate) fn probe_stream(dir: Direction, data: &[u8]) -> Result<AppProto, Probe> {
    let probes: [StreamProbe; 6] = [
        (AppProto::Tls, mamori_tls::probe),
        (AppProto::Http, mamori_http::probe),
        (AppProto::Smtp, mamori_mail::probe_smtp),
        (AppProto::Pop3, mamori_mail::probe_pop3),
        (AppProto::Imap, mamori_mail::probe_imap),
        (AppProto::Dns, mamori_dns::probe_tcp),
    ];
    let mut need_more = false;
    for (proto, probe) in probes {
        match probe(dir, data) {
            Probe::Match => return Ok(proto),
            Probe::NeedMore => need_more = true,
            Probe::NoMatch => {}
        }
    }
    Err(if need_more { Probe::NeedMore } else { Probe::NoMatch })
}

/// Datagram protocols.
pub(crate) fn probe_datagram(payload: &[u8]) -> Option<AppProto> {
    if mamori_quic::probe(payload) == Probe::Match {
        return Some(AppProto::Quic);
    }
    if mamori_dns::probe_udp(payload) == Probe::Match {
        return Some(AppProto::Dns);
    }
    None
}
