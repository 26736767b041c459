# The data path around mamori-netd. netd creates the bridge, enslaves the
# ports and owns `table inet mamori` (the block sets and the queue rule that
# hands bridged IP traffic to mamori-inspect); see docs/netd.md. This module
# only prepares the kernel for it and has systemd-networkd address the
# bridge, keeping networkd's hands off the bridge's links.
{ config, lib, ... }:

let
  cfg = config.services.mamori;

  isMac = lib.hasInfix ":";

  # How networkd recognises the links netd may take as ports.
  portMatch =
    port:
    if port == "auto" then
      {
        # What netd's `auto` chooses from: wired NICs with a bus device
        # (onboard, add-in, USB behind PCI). Wi-Fi is Type=wlan, the bridge
        # Type=bridge, virtual links have no path.
        Type = "ether";
        Path = "pci-*";
      }
    else if isMac port then
      # The permanent address, as netd matches first: the bridge takes a
      # port's current MAC, and a MACAddress= match would catch it too.
      { PermanentMACAddress = port; }
    else
      { Name = port; };

  explicitPorts = lib.filter (p: p != "auto") [
    cfg.ports.wan
    cfg.ports.lan
  ];
  anyAuto = cfg.ports.wan == "auto" || cfg.ports.lan == "auto";

  # A link networkd manages without KeepMaster= is released from its bridge,
  # and netd would put it back, again and again. Unmanaged links are never
  # touched at all, which also covers up/down and addresses.
  portNetwork = port: {
    matchConfig = portMatch port;
    linkConfig.Unmanaged = true;
  };
in
{
  config = lib.mkIf cfg.enable {
    boot.kernelModules = [
      # Bridged IPv4/IPv6 goes through the inet hooks. netd would modprobe it,
      # but its unit has ProtectKernelModules, so it is loaded here.
      "br_netfilter"
      # The queue statement and the verdicts inspect gives on it.
      "nft_queue"
      "nfnetlink_queue"
      # `ct mark` in the ruleset, and setting the mark in a verdict
      # (without it inspect falls back to the packet mark).
      "nft_ct"
      "nf_conntrack_netlink"
    ];

    # systemd-sysctl runs after systemd-modules-load, so net.bridge exists.
    boot.kernel.sysctl = {
      # Bridged IPv4/IPv6 frames go through the inet hooks (and so the queue).
      "net.bridge.bridge-nf-call-iptables" = 1;
      "net.bridge.bridge-nf-call-ip6tables" = 1;
      # ARP is not inspected.
      "net.bridge.bridge-nf-call-arptables" = 0;
    };

    networking.nftables = {
      enable = true;
      # Reloading the firewall must replace only its own tables, never flush
      # netd's (nixpkgs flips this on when `ruleset` is set).
      flushRuleset = false;
    };
    networking.firewall = {
      enable = true;
      # The firewall guards the appliance's own address (input). Bridged
      # customer traffic crosses the forward hook, where only the mamori
      # table decides.
      filterForward = false;
      # With br_netfilter the reverse-path check would see bridged customer
      # traffic, whose sources the appliance has no route for: it must pass.
      checkReversePath = false;
    };

    networking.useNetworkd = true;
    networking.useDHCP = false;
    systemd.network = {
      enable = true;
      # Files are matched in name order, first match wins: the bridge's file
      # sorts before the ports' and NixOS' generated 40-* files.
      networks = {
        # The appliance's management address. The file applies as soon as
        # netd creates the bridge.
        "10-${cfg.bridge}" = {
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
        lib.imap0 (i: p: lib.nameValuePair "20-mamori-port-${toString i}" (portNetwork p)) explicitPorts
      )
      // lib.optionalAttrs anyAuto { "21-mamori-port-auto" = portNetwork "auto"; };
    };
  };
}
