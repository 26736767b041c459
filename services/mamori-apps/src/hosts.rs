//! Apps recognised by the names a flow shows (TLS/QUIC SNI, DNS question,
//! HTTP Host). The suffixes are the services' own domains as nDPI lists
//! them; a name matches an entry at a label boundary, and the longest entry
//! wins (`instagram.com` over `facebook.com` never conflicts, but e.g.
//! `vpn-api.proton.me` is more specific than any `proton.me` entry would be).

use crate::app::App;

/// Kinds of table entries.
#[derive(Clone, Copy)]
enum Pattern {
    /// `name == s` or `name` ends with `.s`.
    Suffix(&'static str),
    /// `name` starts with `s` (CDN host prefixes such as `igcdn-photos-`).
    Prefix(&'static str),
    /// `name` ends with `s` where `s` starts with `-` (generated host names
    /// such as `c-flightproxy-euno-01-teams.cloudapp.net`).
    LabelTail(&'static str),
}

use Pattern::{LabelTail as T, Prefix as P, Suffix as S};

const HOSTS: &[(Pattern, App)] = &[
    (S("line.me"), App::Line),
    (S("line-apps.com"), App::Line),
    (S("line-scdn.net"), App::Line),
    (S("line-cdn.net"), App::Line),
    (S("line.naver.jp"), App::Line),
    (S("lineblog.me"), App::Line),
    (S("facebook.com"), App::Facebook),
    (S("facebook.net"), App::Facebook),
    (S("fbcdn.net"), App::Facebook),
    (S("fbsbx.com"), App::Facebook),
    (S("fb.com"), App::Facebook),
    (S("fb.me"), App::Facebook),
    (S("tfbnw.net"), App::Facebook),
    (S("instagram.com"), App::Instagram),
    (S("cdninstagram.com"), App::Instagram),
    (S("instagr.am"), App::Instagram),
    (S("ig.me"), App::Instagram),
    (P("igcdn-photos-"), App::Instagram),
    (P("igcdn-videos-"), App::Instagram),
    (P("instagramstatic-"), App::Instagram),
    (S("twitter.com"), App::Twitter),
    (S("twimg.com"), App::Twitter),
    (S("twttr.com"), App::Twitter),
    (S("t.co"), App::Twitter),
    (S("x.com"), App::Twitter),
    (S("tiktok.com"), App::TikTok),
    (S("tiktokv.com"), App::TikTok),
    (S("tiktokcdn.com"), App::TikTok),
    (S("tiktokcdn-us.com"), App::TikTok),
    (S("tiktokv.us"), App::TikTok),
    (S("musical.ly"), App::TikTok),
    (S("byteoversea.com"), App::TikTok),
    (S("ibytedtos.com"), App::TikTok),
    (S("youtube.com"), App::YouTube),
    (S("youtu.be"), App::YouTube),
    (S("ytimg.com"), App::YouTube),
    (S("googlevideo.com"), App::YouTube),
    (S("youtube-nocookie.com"), App::YouTube),
    (S("youtubei.googleapis.com"), App::YouTube),
    (S("youtube.googleapis.com"), App::YouTube),
    (S("yt3.ggpht.com"), App::YouTube),
    (S("yt4.ggpht.com"), App::YouTube),
    (S("whatsapp.com"), App::WhatsApp),
    (S("whatsapp.net"), App::WhatsApp),
    (S("wa.me"), App::WhatsApp),
    (S("telegram.org"), App::Telegram),
    (S("telegram.me"), App::Telegram),
    (S("t.me"), App::Telegram),
    (S("tdesktop.com"), App::Telegram),
    (S("telesco.pe"), App::Telegram),
    (S("telegra.ph"), App::Telegram),
    (S("discord.com"), App::Discord),
    (S("discord.gg"), App::Discord),
    (S("discord.media"), App::Discord),
    (S("discordapp.com"), App::Discord),
    (S("discordapp.net"), App::Discord),
    (S("zoom.us"), App::Zoom),
    (S("zoom.com"), App::Zoom),
    (S("zoomgov.com"), App::Zoom),
    (S("teams.microsoft.com"), App::Teams),
    (S("teams.office.com"), App::Teams),
    (S("teams.live.com"), App::Teams),
    (S("teams.cdn.office.net"), App::Teams),
    (S("teams-msgapi.trafficmanager.net"), App::Teams),
    (T("-teams.cloudapp.net"), App::Teams),
    (S("dropbox.com"), App::Dropbox),
    (S("dropboxapi.com"), App::Dropbox),
    (S("dropboxusercontent.com"), App::Dropbox),
    (S("dropboxstatic.com"), App::Dropbox),
    (S("getdropbox.com"), App::Dropbox),
    (S("db.tt"), App::Dropbox),
    (S("drive.google.com"), App::GoogleDrive),
    (S("drive.usercontent.google.com"), App::GoogleDrive),
    (S("googledrive.com"), App::GoogleDrive),
    (S("teamviewer.com"), App::TeamViewer),
    (S("anydesk.com"), App::AnyDesk),
    (S("steampowered.com"), App::Steam),
    (S("steamcommunity.com"), App::Steam),
    (S("steamstatic.com"), App::Steam),
    (S("steamcontent.com"), App::Steam),
    (S("steamserver.net"), App::Steam),
    (S("steamusercontent.com"), App::Steam),
    (S("steamgames.com"), App::Steam),
    (S("steamcdn-a.akamaihd.net"), App::Steam),
    (S("riotgames.com"), App::RiotGames),
    (S("leagueoflegends.com"), App::RiotGames),
    (S("riotcdn.net"), App::RiotGames),
    (S("rgpub.io"), App::RiotGames),
    (S("pvp.net"), App::RiotGames),
    (S("playvalorant.com"), App::RiotGames),
    (S("epicgames.com"), App::EpicGames),
    (S("epicgames.dev"), App::EpicGames),
    (S("unrealengine.com"), App::EpicGames),
    (S("fortnite.com"), App::EpicGames),
    (S("nintendo.com"), App::Nintendo),
    (S("nintendo.net"), App::Nintendo),
    (S("nintendo.co.jp"), App::Nintendo),
    (S("nintendo.jp"), App::Nintendo),
    (S("nintendo-europe.com"), App::Nintendo),
    (S("playstation.com"), App::Playstation),
    (S("playstation.net"), App::Playstation),
    (S("sonyentertainmentnetwork.com"), App::Playstation),
    (S("xbox.com"), App::Xbox),
    (S("xboxlive.com"), App::Xbox),
    (S("xboxservices.com"), App::Xbox),
    (S("roblox.com"), App::Roblox),
    (S("rbxcdn.com"), App::Roblox),
    (S("rbx.com"), App::Roblox),
    (S("torproject.org"), App::Tor),
    (S("nordvpn.com"), App::NordVpn),
    (S("nordcdn.com"), App::NordVpn),
    (S("protonvpn.com"), App::ProtonVpn),
    (S("protonvpn.ch"), App::ProtonVpn),
    (S("vpn-api.proton.me"), App::ProtonVpn),
    (S("surfshark.com"), App::SurfShark),
    (S("psiphon.ca"), App::Psiphon),
    (S("psiphon3.com"), App::Psiphon),
];

fn matches(p: Pattern, name: &str) -> Option<usize> {
    match p {
        Pattern::Suffix(s) => {
            let boundary = name.len() == s.len()
                || name.len().checked_sub(s.len().saturating_add(1)).and_then(|i| name.as_bytes().get(i))
                    == Some(&b'.');
            (name.ends_with(s) && boundary).then_some(s.len())
        }
        Pattern::Prefix(s) => name.starts_with(s).then_some(s.len()),
        Pattern::LabelTail(s) => name.ends_with(s).then_some(s.len()),
    }
}

/// The [`Pattern::Suffix`] entries by suffix, with their place in [`HOSTS`]
/// (the last of equal ones), and the other entries' places: a name is
/// looked up once per label instead of compared with every entry, since
/// every flow that shows a name is named this way.
struct Index {
    suffixes: std::collections::HashMap<&'static str, usize>,
    others: Vec<usize>,
}

static INDEX: std::sync::LazyLock<Index> = std::sync::LazyLock::new(|| {
    let mut index = Index { suffixes: std::collections::HashMap::new(), others: Vec::new() };
    for (i, (p, _)) in HOSTS.iter().enumerate() {
        match p {
            Pattern::Suffix(s) => {
                index.suffixes.insert(s, i);
            }
            _ => index.others.push(i),
        }
    }
    index
});

/// The app a (lowercase) host name belongs to, by the longest entry (of
/// equally long ones, the last in [`HOSTS`]).
pub fn app_for_name(name: &str) -> Option<App> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let index = &*INDEX;
    // The longest suffix entry is the one met first, label by label from
    // the whole name down.
    let suffix = std::iter::once(0)
        .chain(name.match_indices('.').map(|(i, _)| i + 1))
        .find_map(|at| index.suffixes.get(name.get(at..)?).map(|&i| (name.len() - at, i)));
    index
        .others
        .iter()
        .filter_map(|&i| HOSTS.get(i).and_then(|(p, _)| matches(*p, name)).map(|len| (len, i)))
        .chain(suffix)
        .max()
        .and_then(|(_, i)| HOSTS.get(i))
        .map(|(_, app)| *app)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry against every other, as the whole table was once
    /// searched: the index must name the same app.
    #[test]
    fn the_index_names_what_a_search_of_the_whole_table_names() {
        fn by_search(name: &str) -> Option<App> {
            let name = name.strip_suffix('.').unwrap_or(name);
            HOSTS
                .iter()
                .filter_map(|(p, app)| matches(*p, name).map(|len| (len, *app)))
                .max_by_key(|(len, _)| *len)
                .map(|(_, app)| app)
        }
        let mut names = vec!["".to_string(), ".".to_string(), "com".to_string(), "example.com".to_string()];
        for (p, _) in HOSTS {
            let (Pattern::Suffix(s) | Pattern::Prefix(s) | Pattern::LabelTail(s)) = *p;
            for n in [
                s.to_string(),
                format!("www.{s}"),
                format!("x{s}"),
                format!("{s}."),
                format!("{s}x"),
                format!("a.b-{s}"),
            ] {
                names.push(n);
            }
        }
        for n in &names {
            assert_eq!(app_for_name(n), by_search(n), "{n}");
        }
    }

    #[test]
    fn label_boundaries() {
        assert_eq!(app_for_name("www.facebook.com"), Some(App::Facebook));
        assert_eq!(app_for_name("facebook.com"), Some(App::Facebook));
        assert_eq!(app_for_name("notfacebook.com"), None);
        assert_eq!(app_for_name("facebook.com.evil.example"), None);
        assert_eq!(app_for_name("t.co"), Some(App::Twitter));
        assert_eq!(app_for_name("microsoft.co"), None, "t.co must not match inside a label");
    }

    #[test]
    fn prefixes_tails_and_specificity() {
        assert_eq!(app_for_name("igcdn-photos-g-a.akamaihd.net"), Some(App::Instagram));
        assert_eq!(app_for_name("steamcdn-a.akamaihd.net"), Some(App::Steam));
        assert_eq!(app_for_name("a248.e.akamaihd.net"), None);
        assert_eq!(app_for_name("c-flightproxy-euno-01-teams.cloudapp.net"), Some(App::Teams));
        assert_eq!(app_for_name("vpn-api.proton.me"), Some(App::ProtonVpn));
        assert_eq!(app_for_name("mail.proton.me"), None);
        assert_eq!(app_for_name("yt3.ggpht.com"), Some(App::YouTube));
        assert_eq!(app_for_name("lh3.ggpht.com"), None);
        assert_eq!(app_for_name("drive.google.com"), Some(App::GoogleDrive));
        assert_eq!(app_for_name("www.google.com"), None);
        assert_eq!(app_for_name("dl-obs.official.line.naver.jp."), Some(App::Line));
    }
}
