# Boot assessment. A new image's UKI carries a try counter; systemd-boot
# spends one try per boot, and systemd-bless-boot removes the counter once
# boot-complete.target is reached. mamori-health is required by that target,
# so an image whose bridge, ruleset or inspect is broken never gets blessed
# and systemd-boot falls back to the previous image when its tries run out.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.mamori;

  # EFI variable systemd-boot sets when it booted an entry with a counter.
  bootCountVar = "/sys/firmware/efi/efivars/LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

  check = pkgs.writeShellApplication {
    name = "mamori-health";
    runtimeInputs = [
      pkgs.coreutils
      pkgs.nftables
      pkgs.socat
    ];
    text = ''
      # Exit 0 when all three conditions hold within the timeout, 1 otherwise.
      # Usage: mamori-health [timeout-seconds]
      timeout=''${1:-${toString cfg.health.timeout}}
      bridge=${cfg.bridge}
      socket=/run/mamori-inspect/control.sock

      bridge_forwards() {
        [ "$(cat "/sys/class/net/$bridge/operstate" 2>/dev/null)" = up ] || return 1
        forwarding=0
        for port in /sys/class/net/"$bridge"/brif/*; do
          # 3 = BR_STATE_FORWARDING
          [ "$(cat "$port/state" 2>/dev/null)" = 3 ] && forwarding=$((forwarding + 1))
        done
        [ "$forwarding" -ge 2 ]
      }

      ruleset_loaded() {
        nft list chain inet mamori forward >/dev/null 2>&1
      }

      inspect_answers() {
        [ -S "$socket" ] || return 1
        [ "$(printf 'ping\n' | socat -t 2 -T 2 - "UNIX-CONNECT:$socket" 2>/dev/null)" = pong ]
      }

      deadline=$((SECONDS + timeout))
      while :; do
        failed=""
        bridge_forwards || failed="$failed bridge"
        ruleset_loaded || failed="$failed ruleset"
        inspect_answers || failed="$failed inspect"
        if [ -z "$failed" ]; then
          echo "mamori-health: bridge forwards, ruleset loaded, inspect answers"
          exit 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
          echo "mamori-health: failed after ''${timeout}s:$failed" >&2
          exit 1
        fi
        sleep 2
      done
    '';
  };
in
{
  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ check ];

    systemd.services.mamori-health = {
      description = "Mamori boot health check (bridge, ruleset, inspect)";
      requiredBy = [ "boot-complete.target" ];
      before = [ "boot-complete.target" ];
      after = [
        "systemd-networkd.service"
        "mamori-netd.service"
        "mamori-inspect.service"
      ];
      wants = [
        "mamori-netd.service"
        "mamori-inspect.service"
      ];
      unitConfig = {
        # Only a boot under assessment is judged: rebooting a blessed image
        # because a cable is unplugged would only loop.
        ConditionPathExists = bootCountVar;
        FailureAction = cfg.health.failureAction;
      };
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = lib.getExe check;
        TimeoutStartSec = cfg.health.timeout + 60;
      };
    };

    # Declared here rather than taken from the systemd package so the boot
    # assessment does not depend on which upstream units a NixOS release
    # links by default. If upstream ships them, these become drop-ins.
    systemd.targets.boot-complete = {
      description = "Boot Completion Check";
      unitConfig.RefuseManualStart = true;
    };

    systemd.services.systemd-bless-boot = {
      description = "Mark the current boot loader entry as good";
      # Pulled in on every boot; the condition keeps it to counted boots, as
      # upstream's systemd-bless-boot-generator does.
      wantedBy = [ "basic.target" ];
      requires = [ "boot-complete.target" ];
      after = [
        "local-fs.target"
        "boot-complete.target"
      ];
      conflicts = [ "shutdown.target" ];
      before = [ "shutdown.target" ];
      restartIfChanged = false;
      unitConfig = {
        DefaultDependencies = false;
        ConditionPathExists = bootCountVar;
      };
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        # The empty entry clears an ExecStart an upstream unit may carry.
        ExecStart = [
          ""
          "${config.systemd.package}/lib/systemd/systemd-bless-boot good"
        ];
      };
    };
  };
}
