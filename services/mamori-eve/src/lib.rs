//! EVE records.
//!
//! The top-level fields and their order follow Suricata (`timestamp`,
//! `flow_id`, `pcap_cnt`, `event_type`, `vlan`, `src_ip`, `src_port`,
//! `dest_ip`, `dest_port`, `proto`, `pkt_src`, `app_proto`, `tx_id`), and the
//! event's objects (`http`, `tls`, `dns`, `fileinfo`, `flow`, `alert`, ...)
//! follow in the order they were added. Objects are JSON values so that every
//! parser crate can define its own object with `Serialize` and this crate
//! does not depend on them. Objects nobody reads back (a flow's counters, a
//! file's hash) can be added as finished JSON text instead
//! ([`EveRecord::push_json`]): building a value tree for them, only to write
//! it out, was a few per cent of the engine's time on short connections.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// Microseconds since the Unix epoch, printed as Suricata prints time:
/// `2024-05-06T07:08:09.123456+0000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub fn from_secs_micros(secs: u64, micros: u32) -> Timestamp {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(u64::from(micros)))
    }
    pub fn micros(self) -> u64 {
        self.0
    }
}

impl Timestamp {
    /// The text, digit by digit, for years 0 to 9999 (every record has one
    /// or more: a tenth of what the formatting machinery costs for seven
    /// padded numbers).
    fn text(self) -> Option<[u8; 31]> {
        let secs = self.0 / 1_000_000;
        let micros = self.0 % 1_000_000;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut out = *b"0000-00-00T00:00:00.000000+0000";
        let mut put = |at: usize, width: usize, mut v: u64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, y as u64);
        put(5, 2, u64::from(m));
        put(8, 2, u64::from(d));
        put(11, 2, rem / 3600);
        put(14, 2, (rem / 60) % 60);
        put(17, 2, rem % 60);
        put(20, 6, micros);
        Some(out)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(out) = self.text() {
            return f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?);
        }
        let secs = self.0 / 1_000_000;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+0000",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60,
            self.0 % 1_000_000
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // As a plain string: `collect_str` would go through `fmt::Write`.
        match self.text() {
            Some(out) => s.serialize_str(std::str::from_utf8(&out).map_err(serde::ser::Error::custom)?),
            None => s.collect_str(self),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`), to avoid a date crate for one line.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// IP protocol name as EVE prints it (borrowed for the common ones: every
/// record carries one).
pub fn proto_name(proto: u8) -> Cow<'static, str> {
    match proto {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6-ICMP".into(),
        47 => "GRE".into(),
        132 => "SCTP".into(),
        n => format!("{n:03}").into(),
    }
}

/// One EVE line.
#[derive(Clone, Debug, PartialEq)]
pub struct EveRecord {
    pub timestamp: Timestamp,
    pub flow_id: Option<u64>,
    pub pcap_cnt: Option<u64>,
    pub event_type: &'static str,
    pub vlan: Vec<u16>,
    pub src_ip: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dest_ip: Option<IpAddr>,
    pub dest_port: Option<u16>,
    pub proto: Option<Cow<'static, str>>,
    pub pkt_src: Option<&'static str>,
    pub app_proto: Option<&'static str>,
    pub tx_id: Option<u64>,
    /// Event objects in output order, e.g. `("http", {...})`.
    pub objects: Vec<(&'static str, Value)>,
    /// Objects added as JSON text, each with the number of `objects` it
    /// follows.
    json: Vec<(usize, &'static str, Json)>,
}

/// Finished JSON text of one object: cheap to copy into several records
/// (a transaction's `http` object goes into its event and its files').
#[derive(Clone, Debug)]
pub struct Json(Box<RawValue>);

impl Json {
    /// A value that fails to serialize becomes null.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Json {
        Json(
            serde_json::value::to_raw_value(value)
                .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON")),
        )
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        self.0.get() == other.0.get()
    }
}

impl EveRecord {
    pub fn new(timestamp: Timestamp, event_type: &'static str) -> EveRecord {
        EveRecord {
            timestamp,
            flow_id: None,
            pcap_cnt: None,
            event_type,
            vlan: Vec::new(),
            src_ip: None,
            src_port: None,
            dest_ip: None,
            dest_port: None,
            proto: None,
            pkt_src: None,
            app_proto: None,
            tx_id: None,
            objects: Vec::new(),
            json: Vec::new(),
        }
    }

    /// Add an object (`"http"`, `"fileinfo"`, ...). A value that fails to
    /// serialize is replaced by null rather than losing the event.
    pub fn with<T: Serialize>(mut self, key: &'static str, value: &T) -> EveRecord {
        self.push(key, value);
        self
    }

    pub fn push<T: Serialize>(&mut self, key: &'static str, value: &T) {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.objects.push((key, v));
    }

    /// Add an object already built as a JSON value, without copying it.
    pub fn push_value(&mut self, key: &'static str, value: Value) {
        self.objects.push((key, value));
    }

    /// Add an object as JSON text, for objects that are written and never
    /// read back: [`EveRecord::object`] does not see it. Output order is
    /// the order of adding, as for the others. A value that fails to
    /// serialize is written as null.
    pub fn push_json<T: Serialize>(&mut self, key: &'static str, value: &T) {
        self.push_encoded(key, Json::encode(value));
    }

    /// [`EveRecord::push_json`] with the text already made.
    pub fn push_encoded(&mut self, key: &'static str, json: Json) {
        self.json.push((self.objects.len(), key, json));
    }

    /// An object added as a JSON value (not one added with
    /// [`EveRecord::push_json`]).
    pub fn object(&self, key: &str) -> Option<&Value> {
        self.objects.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Any object, however it was added, as a JSON value (a copy).
    pub fn object_value(&self, key: &str) -> Option<Value> {
        if let Some(v) = self.object(key) {
            return Some(v.clone());
        }
        let (_, _, j) = self.json.iter().find(|(_, k, _)| *k == key)?;
        serde_json::from_str(j.as_str()).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for EveRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &self.timestamp)?;
        if let Some(v) = self.flow_id {
            m.serialize_entry("flow_id", &v)?;
        }
        if let Some(v) = self.pcap_cnt {
            m.serialize_entry("pcap_cnt", &v)?;
        }
        m.serialize_entry("event_type", self.event_type)?;
        if !self.vlan.is_empty() {
            m.serialize_entry("vlan", &self.vlan)?;
        }
        if let Some(v) = self.src_ip {
            m.serialize_entry("src_ip", &v)?;
        }
        if let Some(v) = self.src_port {
            m.serialize_entry("src_port", &v)?;
        }
        if let Some(v) = self.dest_ip {
            m.serialize_entry("dest_ip", &v)?;
        }
        if let Some(v) = self.dest_port {
            m.serialize_entry("dest_port", &v)?;
        }
        if let Some(v) = &self.proto {
            m.serialize_entry("proto", v)?;
        }
        if let Some(v) = self.pkt_src {
            m.serialize_entry("pkt_src", v)?;
        }
        if let Some(v) = self.app_proto {
            m.serialize_entry("app_proto", v)?;
        }
        if let Some(v) = self.tx_id {
            m.serialize_entry("tx_id", &v)?;
        }
        let mut json = self.json.iter().peekable();
        for (i, (k, v)) in self.objects.iter().enumerate() {
            while let Some((_, jk, jv)) = json.next_if(|(at, ..)| *at <= i) {
                m.serialize_entry(jk, &jv.0)?;
            }
            m.serialize_entry(k, v)?;
        }
        for (_, jk, jv) in json {
            m.serialize_entry(jk, &jv.0)?;
        }
        m.end()
    }
}

/// Writes records as JSON lines.
pub struct EveWriter<W: Write> {
    out: W,
    pub written: u64,
}

impl<W: Write> EveWriter<W> {
    pub fn new(out: W) -> Self {
        EveWriter { out, written: 0 }
    }

    pub fn write(&mut self, rec: &EveRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, rec)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamp_matches_suricata_format() {
        assert_eq!(Timestamp::from_secs_micros(0, 0).to_string(), "1970-01-01T00:00:00.000000+0000");
        assert_eq!(Timestamp::from_secs_micros(1_709_251_199, 42).to_string(), "2024-02-29T23:59:59.000042+0000");
        assert_eq!(Timestamp::from_secs_micros(951_782_400, 0).to_string(), "2000-02-29T00:00:00.000000+0000");
        assert_eq!(Timestamp::from_secs_micros(1_796_137_199, 999_999).to_string(), "2026-12-01T14:59:59.999999+0000");
        assert_eq!(Timestamp::from_secs_micros(253_402_300_799, 7).to_string(), "9999-12-31T23:59:59.000007+0000");
        assert_eq!(Timestamp::from_secs_micros(253_402_300_800, 0).to_string(), "10000-01-01T00:00:00.000000+0000");
    }

    #[test]
    fn a_timestamp_is_written_to_json_as_it_displays() {
        for secs in [0, 951_782_400, 1_709_251_199, 253_402_300_799, 253_402_300_800, u64::MAX / 1_000_000] {
            let ts = Timestamp::from_secs_micros(secs, 123_456);
            assert_eq!(serde_json::to_string(&ts).unwrap(), format!("\"{ts}\""));
        }
    }

    #[test]
    fn record_has_suricata_field_order_and_names() {
        let mut r = EveRecord::new(Timestamp(1_000_000), "http");
        r.flow_id = Some(7);
        r.src_ip = Some("10.0.0.1".parse().unwrap());
        r.src_port = Some(1234);
        r.dest_ip = Some("10.0.0.2".parse().unwrap());
        r.dest_port = Some(80);
        r.proto = Some(proto_name(6));
        r.app_proto = Some("http");
        r.tx_id = Some(0);
        r.push("http", &json!({"hostname": "example.com"}));
        assert_eq!(
            r.to_json(),
            r#"{"timestamp":"1970-01-01T00:00:01.000000+0000","flow_id":7,"event_type":"http","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","app_proto":"http","tx_id":0,"http":{"hostname":"example.com"}}"#
        );
    }

    #[test]
    fn objects_added_as_json_text_keep_their_place_among_the_others() {
        let mut r = EveRecord::new(Timestamp(0), "fileinfo");
        r.push_json("first", &json!({"b": 1, "a": [true]}));
        r.push("http", &json!({"url": "/"}));
        r.push_json("fileinfo", &json!({"size": 3}));
        r.push("intel", &json!({"action": "log"}));
        r.push_json("last", &"x\"y");
        let text = r.to_json();
        let pos: Vec<Option<usize>> = ["\"first\":", "\"http\":", "\"fileinfo\":", "\"intel\":", "\"last\":"]
            .iter()
            .map(|k| text.find(k))
            .collect();
        assert!(pos.iter().all(Option::is_some) && pos.windows(2).all(|w| w[0] < w[1]), "objects out of order: {text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["first"], json!({"b": 1, "a": [true]}));
        assert_eq!(back["last"], "x\"y");
        assert_eq!(r.object("fileinfo"), None, "JSON text is not read back as a value");
        assert_eq!(r.object_value("fileinfo"), Some(json!({"size": 3})));
        assert_eq!(r.object_value("http"), Some(json!({"url": "/"})));
        assert_eq!(r.clone(), r, "records with JSON text compare by that text");
    }
}
