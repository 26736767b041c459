//! Rule variables (`$HOME_NET`, `$HTTP_PORTS`, ...): suricata.yaml's
//! `vars.address-groups` and `vars.port-groups`, with Suricata's shipped
//! defaults, overridable from YAML (suricata.yaml itself) or TOML.

use std::collections::BTreeMap;

use crate::error::ConfigError;

/// Address-group and port-group definitions, as unparsed group strings.
/// They are parsed when a rule uses them, so that a broken variable only
/// skips the rules that use it (as in Suricata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vars {
    address: BTreeMap<String, String>,
    port: BTreeMap<String, String>,
}

/// suricata.yaml (7.0) `vars.address-groups` defaults.
const ADDRESS_DEFAULTS: &[(&str, &str)] = &[
    ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
    ("EXTERNAL_NET", "!$HOME_NET"),
    ("HTTP_SERVERS", "$HOME_NET"),
    ("SMTP_SERVERS", "$HOME_NET"),
    ("SQL_SERVERS", "$HOME_NET"),
    ("DNS_SERVERS", "$HOME_NET"),
    ("TELNET_SERVERS", "$HOME_NET"),
    ("AIM_SERVERS", "$EXTERNAL_NET"),
    ("DC_SERVERS", "$HOME_NET"),
    ("DNP3_SERVER", "$HOME_NET"),
    ("DNP3_CLIENT", "$HOME_NET"),
    ("MODBUS_CLIENT", "$HOME_NET"),
    ("MODBUS_SERVER", "$HOME_NET"),
    ("ENIP_CLIENT", "$HOME_NET"),
    ("ENIP_SERVER", "$HOME_NET"),
];

/// suricata.yaml (7.0) `vars.port-groups` defaults.
const PORT_DEFAULTS: &[(&str, &str)] = &[
    ("HTTP_PORTS", "80"),
    ("SHELLCODE_PORTS", "!80"),
    ("ORACLE_PORTS", "1521"),
    ("SSH_PORTS", "22"),
    ("DNP3_PORTS", "20000"),
    ("MODBUS_PORTS", "502"),
    ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
    ("FTP_PORTS", "21"),
    ("GENEVE_PORTS", "6081"),
    ("VXLAN_PORTS", "4789"),
    ("TEREDO_PORTS", "3544"),
];

impl Default for Vars {
    fn default() -> Self {
        Vars::suricata_defaults()
    }
}

impl Vars {
    /// No variables at all.
    pub fn empty() -> Self {
        Vars { address: BTreeMap::new(), port: BTreeMap::new() }
    }

    /// The defaults of Suricata's shipped suricata.yaml.
    pub fn suricata_defaults() -> Self {
        let mut v = Vars::empty();
        for (k, val) in ADDRESS_DEFAULTS {
            v.set_address(k, val);
        }
        for (k, val) in PORT_DEFAULTS {
            v.set_port(k, val);
        }
        v
    }

    /// Defines or replaces an address group (name without `$`).
    pub fn set_address(&mut self, name: &str, value: &str) {
        self.address.insert(name.to_string(), value.trim().to_string());
    }

    /// Defines or replaces a port group (name without `$`).
    pub fn set_port(&mut self, name: &str, value: &str) {
        self.port.insert(name.to_string(), value.trim().to_string());
    }

    pub fn address(&self, name: &str) -> Option<&str> {
        self.address.get(name).map(String::as_str)
    }

    pub fn port(&self, name: &str) -> Option<&str> {
        self.port.get(name).map(String::as_str)
    }

    pub fn address_names(&self) -> impl Iterator<Item = &str> {
        self.address.keys().map(String::as_str)
    }

    pub fn port_names(&self) -> impl Iterator<Item = &str> {
        self.port.keys().map(String::as_str)
    }

    /// Overrides from a suricata.yaml-style document: the `vars:` section
    /// with `address-groups:` and `port-groups:` maps. A document with
    /// `address-groups`/`port-groups` at the top level is accepted too.
    pub fn merge_yaml(&mut self, file: &str, text: &str) -> Result<(), ConfigError> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ConfigError {
            file: file.to_string(),
            line: e.location().map(|l| u32::try_from(l.line()).unwrap_or(0)).unwrap_or(0),
            message: e.to_string(),
        })?;
        let root = doc.get("vars").unwrap_or(&doc);
        let mut merged = self.clone();
        for (section, is_port) in [("address-groups", false), ("port-groups", true)] {
            let Some(map) = root.get(section) else { continue };
            let map = map.as_mapping().ok_or_else(|| cfg_err(file, format!("{section} is not a map")))?;
            for (k, v) in map {
                let name = k.as_str().ok_or_else(|| cfg_err(file, format!("{section}: key is not a string")))?;
                let value = match v {
                    serde_yaml::Value::String(s) => s.clone(),
                    serde_yaml::Value::Number(n) => n.to_string(),
                    _ => return Err(cfg_err(file, format!("{section}.{name}: value must be a string or number"))),
                };
                if is_port {
                    merged.set_port(name, &value);
                } else {
                    merged.set_address(name, &value);
                }
            }
        }
        *self = merged;
        Ok(())
    }

    /// Overrides from TOML: `[address-groups]` and `[port-groups]` tables,
    /// optionally under `[vars]`.
    pub fn merge_toml(&mut self, file: &str, text: &str) -> Result<(), ConfigError> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            message: e.message().to_string(),
        })?;
        let root = match doc.get("vars") {
            Some(toml::Value::Table(t)) => t,
            _ => &doc,
        };
        let mut merged = self.clone();
        for (section, is_port) in [("address-groups", false), ("port-groups", true)] {
            let Some(v) = root.get(section) else { continue };
            let map = v.as_table().ok_or_else(|| cfg_err(file, format!("{section} is not a table")))?;
            for (name, v) in map {
                let value = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    _ => return Err(cfg_err(file, format!("{section}.{name}: value must be a string or integer"))),
                };
                if is_port {
                    merged.set_port(name, &value);
                } else {
                    merged.set_address(name, &value);
                }
            }
        }
        *self = merged;
        Ok(())
    }
}

fn cfg_err(file: &str, message: String) -> ConfigError {
    ConfigError { file: file.to_string(), line: 0, message }
}

fn line_of(text: &str, offset: usize) -> u32 {
    let prefix = text.get(..offset).unwrap_or(text);
    u32::try_from(prefix.bytes().filter(|&b| b == b'\n').count().saturating_add(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_suricata_yaml() {
        let v = Vars::default();
        assert_eq!(v.address("HOME_NET"), Some("[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"));
        assert_eq!(v.address("EXTERNAL_NET"), Some("!$HOME_NET"));
        assert_eq!(v.address("AIM_SERVERS"), Some("$EXTERNAL_NET"));
        assert_eq!(v.port("SHELLCODE_PORTS"), Some("!80"));
        assert_eq!(v.port("FILE_DATA_PORTS"), Some("[$HTTP_PORTS,110,143]"));
        assert_eq!(v.port("TEREDO_PORTS"), Some("3544"));
        assert_eq!(v.port("HOME_NET"), None);
    }

    #[test]
    fn yaml_override_from_suricata_yaml() {
        let mut v = Vars::default();
        let y = "%YAML 1.1\n---\nvars:\n  address-groups:\n    SUPPRESS: \"[10.0.0.0/8,20.0.0.0/16]\"\n    HOME_NET: \"[10.0.0.0/8]\"\n  port-groups:\n    HTTP_PORTS: 8080\noutputs: []\n";
        v.merge_yaml("suricata.yaml", y).unwrap();
        assert_eq!(v.address("SUPPRESS"), Some("[10.0.0.0/8,20.0.0.0/16]"));
        assert_eq!(v.address("HOME_NET"), Some("[10.0.0.0/8]"));
        assert_eq!(v.port("HTTP_PORTS"), Some("8080"));
        assert_eq!(v.port("SSH_PORTS"), Some("22"));
    }

    #[test]
    fn toml_override() {
        let mut v = Vars::default();
        v.merge_toml("vars.toml", "[vars.address-groups]\nHOME_NET = \"10.1.0.0/16\"\n[vars.port-groups]\nHTTP_PORTS = \"[80,8080]\"\nSSH_PORTS = 2222\n")
            .unwrap();
        assert_eq!(v.address("HOME_NET"), Some("10.1.0.0/16"));
        assert_eq!(v.port("HTTP_PORTS"), Some("[80,8080]"));
        assert_eq!(v.port("SSH_PORTS"), Some("2222"));
    }

    #[test]
    fn bad_config_reports_line() {
        let mut v = Vars::default();
        let e = v.merge_toml("vars.toml", "[address-groups]\nHOME_NET = \n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = v.merge_yaml("s.yaml", "vars:\n  address-groups: [1, 2]\n").unwrap_err();
        assert!(e.message.contains("not a map"), "{e}");
        assert_eq!(v, Vars::default(), "a failed merge leaves the vars untouched");
    }
}
