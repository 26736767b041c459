# The data path: a transparent bridge whose IP traffic br_netfilter hands to
# the inet forward hook, where the mamori table queues it to mamori-inspect.
# The inet family is used because Debian 6.1 kernels reject `queue` in the
# bridge family; conntrack marks let inspect take a flow off the queue.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.mamori;

  isMac = lib.hasInfix ":";

  # How networkd recognises one port.
  portMatch =
    port:
    if port == "auto" then
      {
        # Wired NICs on the PCI bus (onboard, add-in, USB-on-PCI): virtual
        # links have no path, Wi-Fi is Type=wlan.
        Type = "ether";
        Path = "pci-*";
      }
    else if isMac port then
      { MACAddress = port; }
    else
      { Name = port; };

  explicitPorts = lib.filter (p: p != "auto") [
    cfg.ports.wan
    cfg.ports.lan
  ];
  anyAuto = cfg.ports.wan == "auto" || cfg.ports.lan == "auto";

  portNetwork = port: {
    matchConfig = portMatch port;
    networkConfig = {
      Bridge = cfg.bridge;
      # The ports carry customer traffic only; the appliance never talks on them.
      LinkLocalAddressing = "no";
      IPv6AcceptRA = false;
    };
    linkConfig.RequiredForOnline = "enslaved";
  };

  mark = toString;
  queueFirst = cfg.queues.first;

  ruleset = pkgs.writeShellApplication {
    name = "mamori-ruleset";
    runtimeInputs = [
      pkgs.nftables
      pkgs.coreutils
    ];
    text = ''
      # The queue count is the number of online CPUs unless the image fixes it,
      # which cannot be known when the image is built.
      count=${if cfg.queues.count == null then "$(nproc)" else toString cfg.queues.count}
      first=${toString queueFirst}
      last=$((first + count - 1))
      if [ "$count" -gt 1 ]; then
        queue="queue flags bypass,fanout to $first-$last"
      else
        queue="queue flags bypass to $first"
      fi

      # Declaring the table before deleting it makes the first load and a
      # reload the same script.
      nft -f - <<EOF
      table inet mamori {}
      delete table inet mamori
      table inet mamori {
        set block4 {
          type ipv4_addr
          flags interval
          ${lib.optionalString (v4 != [ ]) "elements = { ${lib.concatStringsSep ", " v4} }"}
        }
        set block6 {
          type ipv6_addr
          flags interval
          ${lib.optionalString (v6 != [ ]) "elements = { ${lib.concatStringsSep ", " v6} }"}
        }
        chain forward {
          type filter hook forward priority filter - 10; policy accept;
          # br_netfilter reports the bridge itself as in- and out-interface.
          iifname != "${cfg.bridge}" accept
          ip saddr @block4 drop
          ip daddr @block4 drop
          ip6 saddr @block6 drop
          ip6 daddr @block6 drop
          ct mark and ${mark cfg.marks.block} == ${mark cfg.marks.block} drop
          ct mark and ${mark cfg.marks.bypass} == ${mark cfg.marks.bypass} accept
          meta l4proto { tcp, udp } $queue
        }
      }
      EOF
    '';
  };

  v4 = lib.filter (a: !lib.hasInfix ":" a) cfg.staticBlocklist;
  v6 = lib.filter (a: lib.hasInfix ":" a) cfg.staticBlocklist;
in
{
  config = lib.mkIf cfg.enable {
    boot.kernelModules = [
      "br_netfilter"
      "nf_conntrack"
      "nf_tables"
      "nft_ct"
      "nft_queue"
      "nfnetlink_queue"
    ];

    boot.kernel.sysctl = {
      # Bridged IPv4/IPv6 frames go through the inet hooks (and so the queue).
      "net.bridge.bridge-nf-call-iptables" = 1;
      "net.bridge.bridge-nf-call-ip6tables" = 1;
      # ARP is not inspected.
      "net.bridge.bridge-nf-call-arptables" = 0;
    };

    networking.nftables.enable = true;
    networking.firewall = {
      enable = true;
      # With br_netfilter the reverse-path check would see bridged customer
      # traffic, whose sources the appliance has no route for: it must pass.
      checkReversePath = false;
    };

    networking.useNetworkd = true;
    networking.useDHCP = false;
    systemd.network = {
      enable = true;
      netdevs."20-${cfg.bridge}" = {
        netdevConfig = {
          Kind = "bridge";
          Name = cfg.bridge;
        };
        # Inline between two routers: no STP, so ports forward at once.
        bridgeConfig.STP = false;
      };
      networks = {
        "30-${cfg.bridge}" = {
          matchConfig.Name = cfg.bridge;
          networkConfig = {
            ConfigureWithoutCarrier = true;
            LinkLocalAddressing = "no";
          }
          // lib.optionalAttrs (cfg.management.mode == "dhcp") { DHCP = "ipv4"; };
          address = lib.optional (cfg.management.mode == "static") cfg.management.address;
          gateway = lib.optional (
            cfg.management.mode == "static" && cfg.management.gateway != null
          ) cfg.management.gateway;
          dns = lib.optionals (cfg.management.mode == "static") cfg.management.dns;
          linkConfig.RequiredForOnline = "routable";
        };
      }
      // lib.listToAttrs (
        lib.imap0 (i: p: lib.nameValuePair "35-mamori-port-${toString i}" (portNetwork p)) explicitPorts
      )
      // lib.optionalAttrs anyAuto { "36-mamori-port-auto" = portNetwork "auto"; };
    };

    systemd.services.mamori-ruleset = {
      description = "Mamori nftables table (bridge queueing, block sets)";
      wantedBy = [ "multi-user.target" ];
      after = [ "nftables.service" ];
      # nftables.service flushes the whole ruleset when it (re)starts.
      partOf = [ "nftables.service" ];
      before = [ "mamori-inspect.service" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = lib.getExe ruleset;
        # After a flush the table is already gone; that is not a failure.
        ExecStop = "-${lib.getExe pkgs.nftables} delete table inet mamori";
      };
    };
  };
}
