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

  # A port is named by interface name or by MAC address; "auto" means every
  # wired PCI NIC, which on the two-port boxes we ship is the WAN/LAN pair.
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
in
{
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
      description = "Name of the bridge that joins the WAN and LAN ports.";
    };

    ports = {
      wan = mkOption {
        type = portType;
        default = "auto";
        example = "52:54:00:12:34:56";
        description = ''
          WAN port: an interface name, a MAC address, or `auto`. With both
          ports `auto`, every wired PCI NIC joins the bridge and mamori-netd
          decides which side is WAN at run time.
        '';
      };
      lan = mkOption {
        type = portType;
        default = "auto";
        example = "enp2s0";
        description = "LAN port: an interface name, a MAC address, or `auto`.";
      };
    };

    management = {
      mode = mkOption {
        type = types.enum [
          "dhcp"
          "static"
        ];
        default = "dhcp";
        description = "How the appliance's own address on the bridge is configured.";
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
        type = types.nullOr types.ints.positive;
        default = null;
        description = ''
          Number of NFQUEUE queues (and inspect worker threads). `null` means
          one per online CPU, decided on the appliance at boot.
        '';
      };
      first = mkOption {
        type = types.ints.between 0 65000;
        default = 0;
        description = "First NFQUEUE number; queues are first .. first+count-1.";
      };
    };

    marks = {
      bypass = mkOption {
        type = types.ints.positive;
        default = 1;
        description = "Conntrack mark bit inspect sets on a flow it no longer needs to see.";
      };
      block = mkOption {
        type = types.ints.positive;
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
        Addresses or prefixes always dropped on the bridge, built into the
        image. Intel-driven blocks are added at run time by mamori-netd.
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

    netd.enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether to run mamori-netd (port roles, run-time block sets).";
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
        assertion = cfg.marks.bypass != cfg.marks.block;
        message = "services.mamori.marks.bypass and .block must be different bits.";
      }
    ];
}
