# Renders /etc/mamori/{netd,inspect,agent}.toml and runs the three services.
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  cfg = config.services.mamori;
  settingsFormat = pkgs.formats.toml { };

  # TOML has no null: an unset option is an absent key.
  dropNulls = lib.filterAttrsRecursive (_: v: v != null);

  intel = {
    inherit (cfg.intel) dir;
    public_key = cfg.intel.publicKey;
  };

  stateDir = "/var/lib/mamori";
  inspectSocket = "/run/mamori-inspect/control.sock";

  # The image's fixed entries first, then the list changed on site; netd
  # reads both again on SIGHUP (systemctl reload mamori-netd).
  staticBlocklist = pkgs.writeText "mamori-blocklist.txt" (
    lib.concatLines (
      [ "# services.mamori.staticBlocklist; run-time entries: ${stateDir}/blocklist.txt" ]
      ++ cfg.staticBlocklist
    )
  );

  netdConfig = {
    state_dir = stateDir;
    overlay = "${stateDir}/config/netd.toml";
    bridge = {
      name = cfg.bridge;
      inherit (cfg.ports) wan lan;
    };
    # Family inet is fixed by netd (docs/netd.md says why).
    ruleset = {
      table = "mamori";
      block_set_v4 = "block4";
      block_set_v6 = "block6";
      queue_first = cfg.queues.first;
      queue_count = cfg.queues.count;
      bypass_mark = cfg.marks.bypass;
      block_mark = cfg.marks.block;
      skip_pure_acks = cfg.queues.skipPureAcks;
    };
    blocklist.files = [
      "/etc/mamori/blocklist.txt"
      "${stateDir}/blocklist.txt"
      # written by mamori-inspect from the verified intel bundle
      "${stateDir}/intel-blocklist.txt"
    ];
  };

  inspectConfig = {
    state_dir = stateDir;
    overlay = "${stateDir}/config/inspect.toml";
    control_socket = inspectSocket;
    queues = {
      first = cfg.queues.first;
      inherit (cfg.queues) count;
    };
    marks = {
      inherit (cfg.marks) bypass block;
    };
    protections = {
      inherit (cfg.protections) ips antivirus;
      web_protection = cfg.protections.webProtection;
      inherit (cfg.protections) categories apps;
    };
    eve = {
      path = cfg.eveLog;
    };
    # An empty list is left out: no rule files from the image.
    ips = lib.optionalAttrs (cfg.ips.rules != [ ]) { inherit (cfg.ips) rules; } // {
      inherit (cfg.ips) classification vars threshold;
    };
    inline.block_page_contact = cfg.blockPageContact;
    inherit intel;
    web = {
      inherit (cfg.web) malicious threats categories;
      dns_block = cfg.web.dnsBlock;
      allowlist = {
        inherit (cfg.web.allowlist) domains urls ips;
      };
    };
  };

  agentConfig = {
    state_dir = stateDir;
    overlay = "${stateDir}/config/agent.toml";
    update = {
      url = cfg.update.url;
      intel_url = "${cfg.update.url}intel/";
    };
    eve = {
      path = cfg.eveLog;
    };
    inherit intel;
  };

  render =
    name: generated: extra:
    settingsFormat.generate "${name}.toml" (lib.recursiveUpdate (dropNulls generated) extra);

  files = {
    netd = render "netd" netdConfig cfg.netd.settings;
    inspect = render "inspect" inspectConfig cfg.inspect.settings;
    agent = render "agent" agentConfig cfg.agent.settings;
  };

  # Shared by the three daemons; each unit then adds only what it needs.
  hardening = {
    # One dynamic user for the three units: systemd hands the same UID to every
    # running unit that names the same User=, so they share /var/lib/mamori.
    DynamicUser = true;
    User = "mamori";
    Group = "mamori";
    StateDirectory = "mamori";
    StateDirectoryMode = "0750";
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    NoNewPrivileges = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    RemoveIPC = true;
    UMask = "0027";
    SystemCallArchitectures = "native";
    SystemCallFilter = [ "@system-service" ];
    SystemCallErrorNumber = "EPERM";
    Restart = "always";
    RestartSec = "1s";
  };

  daemon =
    {
      name,
      description,
      args ? [ ],
      watchdog,
      capabilities ? [ ],
      families,
      unit ? { },
      service ? { },
    }:
    {
      inherit description;
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ files.${name} ];
      serviceConfig =
        hardening
        // {
          Type = "notify";
          ExecStart = utils.escapeSystemdExecArgs (
            [ "${cfg.package}/bin/mamori-${name}" ]
            ++ args
            ++ [
              "--config"
              "/etc/mamori/${name}.toml"
            ]
          );
          WatchdogSec = watchdog;
          NotifyAccess = "main";
          # An empty list would render no line at all, i.e. no restriction.
          CapabilityBoundingSet = if capabilities == [ ] then "" else capabilities;
          AmbientCapabilities = if capabilities == [ ] then "" else capabilities;
          RestrictAddressFamilies = families;
        }
        // service;
    }
    // unit;
in
{
  config = lib.mkIf cfg.enable {
    environment.etc = {
      "mamori/netd.toml".source = files.netd;
      "mamori/inspect.toml".source = files.inspect;
      "mamori/agent.toml".source = files.agent;
      "mamori/blocklist.txt".source = staticBlocklist;
    };

    systemd.services.mamori-netd = daemon {
      name = "netd";
      description = "Mamori network daemon (bridge, nftables table, block sets)";
      watchdog = "30s";
      # For netd and for the nft and modprobe it runs as children.
      capabilities = [ "CAP_NET_ADMIN" ];
      families = [
        "AF_NETLINK"
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
      ];
      unit = {
        # nft loads the table; modprobe is netd's fallback for a missing
        # br_netfilter, which ProtectKernelModules makes fail, so
        # datapath.nix loads the modules at boot.
        path = [
          pkgs.nftables
          pkgs.kmod
        ];
        # netd provides the bridge: whatever waits for network.target finds
        # it, and READY=1 comes after the first convergence.
        wants = [ "network.target" ];
        before = [
          "network.target"
          "mamori-inspect.service"
        ];
        after = [ "nftables.service" ];
        # The blocklist files are read again on SIGHUP; no restart needed.
        reloadTriggers = [ staticBlocklist ];
      };
      service.ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
    };

    systemd.services.mamori-inspect = daemon {
      name = "inspect";
      description = "Mamori inspection engine (NFQUEUE verdicts)";
      args = [ "run" ];
      watchdog = "10s";
      # NET_ADMIN binds NFQUEUE and sets conntrack marks; NET_RAW sends resets;
      # SYS_NICE puts the queue workers at real-time priority ([inline] realtime).
      capabilities = [
        "CAP_NET_ADMIN"
        "CAP_NET_RAW"
        "CAP_SYS_NICE"
      ];
      families = [
        "AF_NETLINK"
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
        "AF_PACKET"
      ];
      unit.after = [
        "network.target"
        "mamori-netd.service"
      ];
      service = {
        RuntimeDirectory = "mamori-inspect";
        RuntimeDirectoryMode = "0750";
        LogsDirectory = "mamori";
        LogsDirectoryMode = "0750";
        # A restart only pauses verdicts: the queue rule carries `bypass`, so
        # packets pass uninspected while no one listens.
        RestartSec = "0";
        # `[inline] realtime` ("auto" by default) puts the queue workers at
        # the lowest real-time priority (SCHED_FIFO 1) while the CPU has idle
        # time, so a verdict never waits out another process's time slice;
        # the kernel keeps 5 % of each second for everything else.
        RestrictRealtime = false;
        # Worker threads pin themselves to CPUs (sched_setaffinity).
        SystemCallFilter = [
          "@system-service"
          "sched_setaffinity"
        ];
      };
    };

    systemd.services.mamori-agent = lib.mkIf cfg.agent.enable (daemon {
      name = "agent";
      description = "Mamori agent (intel bundle updates, reporting)";
      watchdog = "60s";
      families = [
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
      ];
      unit.after = [ "network.target" ];
      service = {
        LogsDirectory = "mamori";
        LogsDirectoryMode = "0750";
      };
    });
  };
}
