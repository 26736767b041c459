# Renders /etc/mamori/{netd,inspect,agent}.toml and runs the three services.
{
  config,
  lib,
  pkgs,
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

  netdConfig = {
    state_dir = stateDir;
    overlay = "${stateDir}/config/netd.toml";
    bridge = {
      name = cfg.bridge;
      inherit (cfg.ports) wan lan;
    };
    management = {
      inherit (cfg.management)
        mode
        address
        gateway
        dns
        ;
    };
    ruleset = {
      family = "inet";
      table = "mamori";
      block_set_v4 = "block4";
      block_set_v6 = "block6";
      queue_first = cfg.queues.first;
      queue_count = cfg.queues.count;
      bypass_mark = cfg.marks.bypass;
      block_mark = cfg.marks.block;
    };
    inherit intel;
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
    inherit intel;
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
      type ? "notify",
      watchdog,
      capabilities ? [ ],
      families,
      extra ? { },
    }:
    {
      inherit description;
      wantedBy = [ "multi-user.target" ];
      after = [
        "network.target"
        "mamori-ruleset.service"
      ];
      restartTriggers = [ files.${name} ];
      serviceConfig =
        hardening
        // {
          Type = type;
          ExecStart = "${cfg.package}/bin/mamori-${name} --config /etc/mamori/${name}.toml";
          WatchdogSec = watchdog;
          NotifyAccess = "main";
          # An empty list would render no line at all, i.e. no restriction.
          CapabilityBoundingSet = if capabilities == [ ] then "" else capabilities;
          AmbientCapabilities = if capabilities == [ ] then "" else capabilities;
          RestrictAddressFamilies = families;
        }
        // extra;
    };
in
{
  config = lib.mkIf cfg.enable {
    environment.etc = {
      "mamori/netd.toml".source = files.netd;
      "mamori/inspect.toml".source = files.inspect;
      "mamori/agent.toml".source = files.agent;
    };

    systemd.services.mamori-netd = lib.mkIf cfg.netd.enable (daemon {
      name = "netd";
      description = "Mamori network daemon (port roles, run-time block sets)";
      watchdog = "30s";
      capabilities = [ "CAP_NET_ADMIN" ];
      families = [
        "AF_NETLINK"
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
      ];
    });

    systemd.services.mamori-inspect = daemon {
      name = "inspect";
      description = "Mamori inspection engine (NFQUEUE verdicts)";
      watchdog = "10s";
      # NET_ADMIN binds NFQUEUE and sets conntrack marks; NET_RAW sends resets.
      capabilities = [
        "CAP_NET_ADMIN"
        "CAP_NET_RAW"
      ];
      families = [
        "AF_NETLINK"
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
        "AF_PACKET"
      ];
      extra = {
        RuntimeDirectory = "mamori-inspect";
        RuntimeDirectoryMode = "0750";
        LogsDirectory = "mamori";
        LogsDirectoryMode = "0750";
        # A restart only pauses verdicts: the queue rule carries `bypass`, so
        # packets pass uninspected while no one listens.
        RestartSec = "0";
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
      extra = {
        LogsDirectory = "mamori";
        LogsDirectoryMode = "0750";
      };
    });
  };
}
