# Client (LAN side) and server (WAN side) talk through the appliance's
# bridge: traffic passes through inspect, blocked addresses are dropped, and
# traffic keeps flowing while inspect is stopped or restarted.
{ pkgs, lib, ... }:

let
  t = import ./lib.nix { inherit pkgs lib; };
  inherit (t) net;

  www = pkgs.runCommand "mamori-test-www" { } ''
    mkdir -p $out
    echo hello > $out/index.html
    head -c 8000000 /dev/zero > $out/big
  '';
in
{
  name = "mamori-datapath";

  nodes = {
    appliance = t.appliance;

    server = {
      imports = [
        (t.host {
          address = net.server;
          vlan = 1;
        })
      ];
      # A second address on the same host, listed in staticBlocklist.
      networking.interfaces.eth1.ipv4.addresses = [
        {
          address = net.blocked;
          prefixLength = 24;
        }
      ];
      networking.firewall.allowedTCPPorts = [ 80 ];
      services.nginx = {
        enable = true;
        virtualHosts.www = {
          default = true;
          root = www;
        };
      };
    };

    client =
      { pkgs, ... }:
      {
        imports = [
          (t.host {
            address = net.client;
            vlan = 2;
          })
        ];
        environment.systemPackages = [ pkgs.curl ];
      };
  };

  testScript = ''
    def fetch(host, path=""):
        return f"curl -sf --max-time 5 http://{host}/{path}"

    start_all()
    appliance.wait_for_unit("mamori-ruleset.service")
    appliance.wait_for_unit("systemd-networkd.service")
    server.wait_for_unit("nginx.service")

    with subtest("the bridge joins both ports and the ruleset is loaded"):
        appliance.wait_until_succeeds("test -e /sys/class/net/mamori0/brif/wan0")
        appliance.wait_until_succeeds("test -e /sys/class/net/mamori0/brif/lan0")
        appliance.succeed("nft list chain inet mamori forward | grep -q 'queue flags bypass,fanout to 0-1'")
        appliance.succeed("sysctl -n net.bridge.bridge-nf-call-iptables | grep -qx 1")
        appliance.succeed("sysctl -n net.bridge.bridge-nf-call-ip6tables | grep -qx 1")
        appliance.succeed("test -s /etc/mamori/netd.toml -a -s /etc/mamori/inspect.toml -a -s /etc/mamori/agent.toml")

    with subtest("no SSH and no password login by default"):
        appliance.fail("systemctl is-active sshd.service")
        appliance.succeed("grep -q '^root:!:' /etc/shadow")

    with subtest("inspect answers and the health check passes"):
        appliance.wait_for_unit("mamori-inspect.service")
        appliance.succeed("mamori-health 120")

    with subtest("traffic passes through inspect"):
        client.wait_until_succeeds(fetch("${net.server}") + " | grep -qx hello", timeout=120)
        # id_sequence (8th column) counts packets handed to each queue.
        appliance.succeed(
            "awk '{ n += $8 } END { exit !(n > 0) }' /proc/net/netfilter/nfnetlink_queue"
        )

    with subtest("a blocked address is dropped"):
        client.fail(fetch("${net.blocked}"))
        appliance.succeed("nft add element inet mamori block4 '{ ${net.server} }'")
        client.fail(fetch("${net.server}"))
        appliance.succeed("nft delete element inet mamori block4 '{ ${net.server} }'")
        client.succeed(fetch("${net.server}"))

    with subtest("traffic fails open while inspect is stopped"):
        appliance.succeed("systemctl stop mamori-inspect.service")
        client.succeed(fetch("${net.server}") + " | grep -qx hello")
        appliance.succeed("systemctl start mamori-inspect.service")
        appliance.wait_for_unit("mamori-inspect.service")

    with subtest("restarting inspect does not cut a running flow"):
        client.succeed(
            "systemd-run --unit=download -p RemainAfterExit=yes "
            + "curl -sf --limit-rate 400k -o /tmp/big http://${net.server}/big"
        )
        client.wait_until_succeeds("test -s /tmp/big")
        appliance.succeed("systemctl restart mamori-inspect.service")
        client.wait_until_succeeds(
            "systemctl show -p SubState --value download | grep -qx exited", timeout=120
        )
        client.succeed("test $(stat -c %s /tmp/big) -eq 8000000")
  '';
}
