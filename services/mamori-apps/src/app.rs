//! The applications we name, spelt exactly as nDPI spells them so that
//! results compare directly with nDPI's.

use serde::{Serialize, Serializer};

/// What kind of app, for reports and per-group policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppGroup {
    Sns,
    Messaging,
    Video,
    CloudStorage,
    P2p,
    Games,
    RemoteAccess,
    VpnProxy,
}

impl AppGroup {
    pub fn name_ja(self) -> &'static str {
        match self {
            AppGroup::Sns => "SNS",
            AppGroup::Messaging => "メッセージ・通話",
            AppGroup::Video => "動画",
            AppGroup::CloudStorage => "クラウドストレージ",
            AppGroup::P2p => "P2Pファイル共有",
            AppGroup::Games => "ゲーム",
            AppGroup::RemoteAccess => "リモート操作",
            AppGroup::VpnProxy => "VPN・プロキシ",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            AppGroup::Sns => "Social networking",
            AppGroup::Messaging => "Messaging and calls",
            AppGroup::Video => "Video",
            AppGroup::CloudStorage => "Cloud storage",
            AppGroup::P2p => "P2P file sharing",
            AppGroup::Games => "Games",
            AppGroup::RemoteAccess => "Remote access",
            AppGroup::VpnProxy => "VPN / proxy",
        }
    }
}

macro_rules! apps {
    ($($v:ident => $name:literal, $group:ident;)*) => {
        /// An application, named as nDPI names it (`App::name`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum App { $($v,)* }

        impl App {
            pub const ALL: &'static [App] = &[$(App::$v,)*];

            /// nDPI's protocol name: `[proto: 91.119/TLS.Facebook]` is `Facebook`.
            pub fn name(self) -> &'static str {
                match self { $(App::$v => $name,)* }
            }

            pub fn group(self) -> AppGroup {
                match self { $(App::$v => AppGroup::$group,)* }
            }
        }
    };
}

apps! {
    Line => "Line", Messaging;
    Facebook => "Facebook", Sns;
    Instagram => "Instagram", Sns;
    Twitter => "Twitter", Sns;
    TikTok => "TikTok", Sns;
    YouTube => "YouTube", Video;
    WhatsApp => "WhatsApp", Messaging;
    Telegram => "Telegram", Messaging;
    Discord => "Discord", Messaging;
    Zoom => "Zoom", Messaging;
    Teams => "Teams", Messaging;
    Dropbox => "Dropbox", CloudStorage;
    GoogleDrive => "GoogleDrive", CloudStorage;
    TeamViewer => "TeamViewer", RemoteAccess;
    AnyDesk => "AnyDesk", RemoteAccess;
    Steam => "Steam", Games;
    RiotGames => "RiotGames", Games;
    EpicGames => "EpicGames", Games;
    Nintendo => "Nintendo", Games;
    Playstation => "Playstation", Games;
    Xbox => "Xbox", Games;
    Roblox => "Roblox", Games;
    BitTorrent => "BitTorrent", P2p;
    EDonkey => "eDonkey", P2p;
    Gnutella => "Gnutella", P2p;
    Tor => "Tor", VpnProxy;
    OpenVpn => "OpenVPN", VpnProxy;
    WireGuard => "WireGuard", VpnProxy;
    NordVpn => "NordVPN", VpnProxy;
    ProtonVpn => "ProtonVPN", VpnProxy;
    SurfShark => "SurfShark", VpnProxy;
    Psiphon => "Psiphon", VpnProxy;
    HttpProxy => "HTTP_Proxy", VpnProxy;
    Socks => "SOCKS", VpnProxy;
}

impl App {
    /// The app with nDPI name `name`.
    pub fn from_name(name: &str) -> Option<App> {
        App::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Serializes as the nDPI name, the string EVE's `app` field carries.
impl Serialize for App {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_ndpi_spelling() {
        for a in App::ALL {
            assert_eq!(App::from_name(a.name()), Some(*a));
        }
        assert_eq!(App::EDonkey.name(), "eDonkey");
        assert_eq!(App::OpenVpn.name(), "OpenVPN");
        assert_eq!(App::HttpProxy.name(), "HTTP_Proxy");
        assert_eq!(App::from_name("facebook"), None, "names are case-sensitive like nDPI's");
    }
}
