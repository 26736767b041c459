# The provider-facing options under services.mamori. The TOML contract they
# render to is described in docs/config.md.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) mkOption mkEnableOption types;
  settingsFormat = pkgs.formats.toml { };

  # A port is named by interface name or by MAC address; "auto" lets
  # mamori-netd pick among the wired NICs (docs/netd.md).
  portType = types.either (types.enum [ "auto" ]) (
    types.strMatching "([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}|[a-zA-Z0-9_.-]{1,15}"
  );

  protection =
    name: default:
    mkOption {
      type = types.bool;
      inherit default;
      description = "Whether the ${name} protection is active.";
    };

  serviceSettings =
    name:
    mkOption {
      type = settingsFormat.type;
      default = { };
      description = ''
        Freeform keys merged over the generated `/etc/mamori/${name}.toml`
        (deep merge, these win). For keys the typed options do not cover yet.
      '';
    };

  actionType = types.enum [
    "block"
    "log"
    "allow"
  ];

  # The keys mamori-inspect accepts in [web.threats] and [web.categories]
  # (ThreatKind and Category in services/mamori-intel, snake_case). An
  # unknown key makes inspect refuse the whole file, so the module checks.
  threatKinds = [
    "malware"
    "malware_distribution"
    "botnet_c2"
    "phishing"
    "compromised"
    "hijacked_network"
    "cryptojacking"
    "other"
  ];
  webCategories = [
    "sns"
    "video"
    "games"
    "shopping"
    "gambling"
    "adult"
    "dating"
    "file_sharing"
    "remote_access"
    "vpn_proxy"
    "webmail"
    "job_search"
    "chat"
    "news"
    "sports"
    "manga"
    "radio"
    "crypto"
    "warez"
    "hacking"
    "encrypted_dns"
    "forum"
    "blog"
    "portal"
  ];

  unknownKeys = known: attrs: lib.subtractLists known (lib.attrNames attrs);
in
{
  imports = [
    (lib.mkRemovedOptionModule [ "services" "mamori" "netd" "enable" ] ''
      mamori-netd creates the bridge and its nftables table; without it no
      traffic passes, so it always runs.
    '')
  ];

  options.services.mamori = {
    enable = mkEnableOption "the Mamori inline security gateway";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./modules/package.nix { }";
      description = "Package providing mamori-netd, mamori-inspect and mamori-agent.";
    };

    bridge = mkOption {
      type = types.strMatching "[a-zA-Z0-9_.-]{1,15}";
      default = "mamori0";
      description = ''
        Name of the bridge that joins the WAN and LAN ports. mamori-netd
        creates it; systemd-networkd only gives it the management address.
      '';
    };

    ports = {
      wan = mkOption {
        type = portType;
        default = "auto";
        example = "52:54:00:12:34:56";
        description = ''
          WAN port: an interface name, a MAC address (matched against the
          permanent address first), or `auto`. `auto` takes the wired NICs in
          bus order, the first as WAN and the second as LAN; an explicit port
          is taken first and `auto` fills the other role. mamori-netd
          enslaves the ports; systemd-networkd is told to leave every
          candidate port unmanaged.
        '';
      };
      lan = mkOption {
        type = portType;
        default = "auto";
        example = "enp2s0";
        description = "LAN port: an interface name, a MAC address, or `auto` (see `ports.wan`).";
      };
    };

    management = {
      mode = mkOption {
        type = types.enum [
          "dhcp"
          "static"
        ];
        default = "dhcp";
        description = ''
          How systemd-networkd configures the appliance's own address on the
          bridge: by DHCP, or the static address below when the segment has
          no DHCP server.
        '';
      };
      address = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "192.0.2.10/24";
        description = "Static address with prefix length (mode = static).";
      };
      gateway = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "192.0.2.1";
        description = "Default gateway (mode = static).";
      };
      dns = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "192.0.2.1" ];
        description = "DNS servers (mode = static; with DHCP they come from the lease).";
      };
    };

    protections = {
      ips = protection "intrusion prevention (signature)" true;
      antivirus = protection "antivirus (file scanning)" true;
      webProtection = protection "web protection (URL/domain reputation)" true;
      categories = protection "web category filtering" false;
      apps = protection "application control" false;
    };

    queues = {
      count = mkOption {
        type = types.nullOr (types.ints.between 1 64);
        default = null;
        description = ''
          Number of NFQUEUE queues (and inspect worker threads). `null` means
          one per online CPU, counted on the appliance by mamori-netd and
          mamori-inspect alike.
        '';
      };
      first = mkOption {
        type = types.ints.between 0 65000;
        default = 0;
        description = "First NFQUEUE number; queues are first .. first+count-1.";
      };
      skipPureAcks = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Accept the payload-less ACKs of established TCP connections without
          queueing them to mamori-inspect, which needs only SYN, FIN, RST and
          data segments. About half the packets of a short connection are
          such ACKs. Turn off to have every packet inspected (EVE flow
          events then count them).
        '';
      };
    };

    marks = {
      bypass = mkOption {
        type = types.ints.between 1 4294967295;
        default = 1;
        description = "Conntrack mark bit inspect sets on a flow it no longer needs to see.";
      };
      block = mkOption {
        type = types.ints.between 1 4294967295;
        default = 2;
        description = "Conntrack mark bit inspect sets on a flow whose packets must be dropped.";
      };
    };

    staticBlocklist = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "203.0.113.0/24"
        "2001:db8:dead::/48"
      ];
      description = ''
        Addresses or prefixes always dropped on the bridge, in both
        directions. Built into the image as /etc/mamori/blocklist.txt, one of
        the `blocklist.files` mamori-netd loads into the block sets; entries
        added at run time go to /var/lib/mamori/blocklist.txt, read again on
        `systemctl reload mamori-netd`.
      '';
    };

    intel = {
      dir = mkOption {
        type = types.path;
        default = "/var/lib/mamori/intel";
        description = "Directory holding the verified intel bundle (rules, signatures, lists).";
      };
      publicKey = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "MCowBQYDK2VwAyEA...";
        description = ''
          Ed25519 public key (base64 of the 32 raw bytes) intel bundles must be
          signed with. `null` refuses every bundle.
        '';
      };
    };

    update = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether systemd-sysupdate fetches new images in the background.";
      };
      url = mkOption {
        type = types.str;
        default = "https://updates.invalid/mamori/";
        example = "https://updates.example.com/mamori/stable/";
        description = ''
          Base URL of the update server. Images are fetched from `<url>images/`
          by systemd-sysupdate, intel bundles from `<url>intel/` by mamori-agent.
          Must end with `/`.
        '';
      };
      signingKey = mkOption {
        type = types.nullOr types.path;
        default = null;
        description = ''
          OpenPGP public key (armored or binary) that signs `SHA256SUMS` on the
          update server. Installed as /etc/systemd/import-pubring.gpg; without
          it no image update verifies and none is installed.
        '';
      };
      tries = mkOption {
        type = types.ints.between 1 9;
        default = 3;
        description = "Boot attempts a new image gets before systemd-boot falls back.";
      };
      timerConfig = mkOption {
        type = types.attrsOf types.str;
        default = {
          OnBootSec = "15min";
          OnUnitActiveSec = "6h";
          RandomizedDelaySec = "1h";
        };
        description = "When to look for new images ([Timer] section of systemd-sysupdate.timer).";
      };
    };

    ips = {
      rules = mkOption {
        type = types.listOf types.path;
        default = [ ];
        example = [ "/var/lib/mamori/rules/emerging-all.rules" ];
        description = ''
          Suricata rule files mamori-inspect loads (`[ips] rules`). Paths on the
          state partition are read at run time; a Nix path is copied into the
          image.
        '';
      };
      classification = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/var/lib/mamori/rules/classification.config";
        description = "Suricata `classification.config` for the rules' classtypes and priorities.";
      };
      vars = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/etc/mamori/vars.yaml";
        description = ''
          Address and port groups the rules refer to (`$HOME_NET`, ...): a
          suricata.yaml whose `vars` are read, or a TOML file of groups.
        '';
      };
      threshold = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/var/lib/mamori/rules/threshold.config";
        description = "Suricata `threshold.config` (thresholds and suppressions).";
      };
    };

    blockPageContact = mkOption {
      type = types.nullOr types.singleLineStr;
      default = null;
      example = "IT担当 山田 03-1234-5678";
      description = ''
        Whom to call, shown on the (Japanese) block page a user sees when a
        web request is blocked. `null` shows no contact line.
      '';
    };

    web = {
      malicious = mkOption {
        type = actionType;
        default = "block";
        description = "What every threat list (malware, phishing, C2, ...) does, unless `web.threats` overrides it.";
      };
      threats = mkOption {
        type = types.attrsOf actionType;
        default = { };
        example = {
          cryptojacking = "log";
        };
        description = ''
          Action per threat kind, overriding `web.malicious`. Kinds:
          ${lib.concatStringsSep ", " threatKinds}.
        '';
      };
      categories = mkOption {
        type = types.attrsOf actionType;
        default = { };
        example = {
          adult = "block";
          gambling = "block";
          games = "block";
        };
        description = ''
          Action per web category (only with `protections.categories`);
          categories not listed are logged. Categories:
          ${lib.concatStringsSep ", " webCategories}.
        '';
      };
      dnsBlock = mkOption {
        type = types.enum [
          "sinkhole"
          "nxdomain"
        ];
        default = "sinkhole";
        description = ''
          How a blocked name is answered in DNS: `sinkhole` answers with the
          sinkhole address (the browser then reaches the block page for
          HTTP), `nxdomain` says the name does not exist.
        '';
      };
      allowlist = {
        domains = mkOption {
          type = types.listOf types.str;
          default = [ ];
          example = [ "example.co.jp" ];
          description = "Domains (with every name below them) never blocked, whatever the lists say.";
        };
        urls = mkOption {
          type = types.listOf types.str;
          default = [ ];
          example = [ "https://example.com/downloads/" ];
          description = "URL prefixes never blocked.";
        };
        ips = mkOption {
          type = types.listOf types.str;
          default = [ ];
          example = [ "203.0.113.0/24" ];
          description = "Addresses or networks never blocked by the web protection.";
        };
      };
    };

    eveLog = mkOption {
      type = types.path;
      default = "/var/log/mamori/eve.json";
      description = "Where mamori-inspect writes EVE JSON events (on the state partition).";
    };

    health = {
      timeout = mkOption {
        type = types.ints.positive;
        default = 300;
        description = "Seconds the boot health check waits for all three conditions.";
      };
      failureAction = mkOption {
        type = types.enum [
          "none"
          "reboot"
        ];
        default = "reboot";
        description = ''
          What a failed health check does on a boot under assessment. `reboot`
          spends one of the new image's tries; `none` waits for a power-cycle.
        '';
      };
    };

    maintenance = {
      enable = mkEnableOption "a maintenance login: SSH as root with the keys below, keys only";
      authorizedKeys = mkOption {
        type = types.listOf types.singleLineStr;
        default = [ ];
        description = "SSH public keys allowed to log in as root when maintenance is enabled.";
      };
    };

    agent.enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether to run mamori-agent (intel updates, reporting).";
    };

    netd.settings = serviceSettings "netd";
    inspect.settings = serviceSettings "inspect";
    agent.settings = serviceSettings "agent";
  };

  config.assertions =
    let
      cfg = config.services.mamori;
    in
    lib.mkIf cfg.enable [
      {
        assertion = cfg.management.mode == "static" -> cfg.management.address != null;
        message = "services.mamori.management.address is required when mode = \"static\".";
      }
      {
        assertion = cfg.maintenance.enable -> cfg.maintenance.authorizedKeys != [ ];
        message = "services.mamori.maintenance.enable needs at least one authorized key.";
      }
      {
        assertion = lib.hasSuffix "/" cfg.update.url;
        message = "services.mamori.update.url must end with '/'.";
      }
      {
        # mamori-netd and mamori-inspect refuse overlapping marks.
        assertion = builtins.bitAnd cfg.marks.bypass cfg.marks.block == 0;
        message = "services.mamori.marks.bypass and .block must not share bits.";
      }
      {
        assertion = cfg.ports.wan == "auto" || lib.toLower cfg.ports.wan != lib.toLower cfg.ports.lan;
        message = "services.mamori.ports.wan and .lan name the same port.";
      }
      {
        assertion =
          !(lib.elem cfg.bridge [
            cfg.ports.wan
            cfg.ports.lan
          ]);
        message = "services.mamori.ports.wan/.lan must not name the bridge (${cfg.bridge}) itself.";
      }
      {
        # netd refuses a /0 entry (it would block everything) and skips it.
        assertion = !lib.any (lib.hasSuffix "/0") cfg.staticBlocklist;
        message = "services.mamori.staticBlocklist must not contain a /0 prefix.";
      }
      {
        assertion = unknownKeys threatKinds cfg.web.threats == [ ];
        message = "services.mamori.web.threats: unknown threat kind(s) ${toString (unknownKeys threatKinds cfg.web.threats)}; known: ${toString threatKinds}.";
      }
      {
        assertion = unknownKeys webCategories cfg.web.categories == [ ];
        message = "services.mamori.web.categories: unknown categor(ies) ${toString (unknownKeys webCategories cfg.web.categories)}; known: ${toString webCategories}.";
      }
    ];
}
