# Client (LAN side) and server (WAN side) talk through the appliance's
# bridge. mamori-netd builds the bridge and its nftables table, networkd only
# addresses the bridge; traffic passes through inspect, addresses in the
# blocklist files are dropped both ways, and traffic keeps flowing while
# inspect is stopped or restarted.
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
    appliance =
      { pkgs, ... }:
      {
        imports = [ t.appliance ];
        # To talk to inspect's control socket.
        environment.systemPackages = [ pkgs.socat ];
      };

    server = {
      imports = [
        (t.host {
          address = net.server;
          vlan = 1;
        })
      ];
      # A second address on the same host, in services.mamori.staticBlocklist.
      networking.interfaces.eth1.ipv4.addresses = [
        {
          address = net.blocked;
          prefixLength = 24;
        }
      ];
      networking.firewall.allowedTCPPorts = [ 80 ];
      environment.systemPackages = [ pkgs.curl ];
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

    def ping(host):
        return f"ping -c 1 -W 2 {host}"

    def in_block4(address):
        return f"nft list set inet mamori block4 | grep -qwF '{address}'"

    queue_rule = "nft list chain inet mamori forward | grep -q 'queue flags bypass to 0-1'"
    site_list = "/var/lib/mamori/blocklist.txt"

    start_all()
    appliance.wait_for_unit("mamori-netd.service")
    server.wait_for_unit("nginx.service")

    with subtest("netd builds the bridge over both ports"):
        for port in ["wan0", "lan0"]:
            appliance.wait_until_succeeds(
                f"ip -o link show {port} | grep -q 'master mamori0'", timeout=30
            )
            # 3 = forwarding: STP is off, so no listening/learning delay.
            appliance.wait_until_succeeds(
                f"grep -qx 3 /sys/class/net/mamori0/brif/{port}/state", timeout=30
            )
        appliance.succeed("grep -qx 0 /sys/class/net/mamori0/bridge/stp_state")
        appliance.succeed("sysctl -n net.bridge.bridge-nf-call-iptables | grep -qx 1")
        appliance.succeed("sysctl -n net.bridge.bridge-nf-call-ip6tables | grep -qx 1")
        appliance.succeed(
            "test -s /etc/mamori/netd.toml -a -s /etc/mamori/inspect.toml -a -s /etc/mamori/agent.toml"
        )

    with subtest("networkd addresses the bridge and leaves the ports alone"):
        appliance.wait_for_unit("systemd-networkd.service")
        appliance.wait_until_succeeds(
            "ip -4 -o addr show dev mamori0 | grep -q 'inet ${net.appliance}/24'", timeout=60
        )
        appliance.succeed("networkctl list --no-legend wan0 | grep -qw unmanaged")
        appliance.succeed("networkctl list --no-legend lan0 | grep -qw unmanaged")
        client.wait_until_succeeds(ping("${net.appliance}"), timeout=60)

    with subtest("netd loads the table, and a firewall reload leaves it alone"):
        appliance.wait_until_succeeds(queue_rule, timeout=30)
        appliance.succeed(in_block4("${net.blocked}"))
        appliance.succeed("systemctl reload nftables.service")
        # No wait: netd would restore a flushed table within 5 s and hide it.
        appliance.succeed(queue_rule)

    with subtest("no SSH and no password login by default"):
        appliance.fail("systemctl is-active sshd.service")
        appliance.succeed("grep -q '^root:!:' /etc/shadow")

    with subtest("inspect answers on its control socket and the health check passes"):
        appliance.wait_for_unit("mamori-inspect.service")
        # READY=1 comes once every queue is bound and the socket listens.
        appliance.succeed(
            "echo ping | socat -t 2 - UNIX-CONNECT:/run/mamori-inspect/control.sock | grep -qx pong"
        )
        appliance.succeed("mamori-health 120")

    with subtest("traffic passes through inspect"):
        client.wait_until_succeeds(fetch("${net.server}") + " | grep -qx hello", timeout=120)
        client.succeed(ping("${net.server}"))
        server.succeed(ping("${net.client}"))
        # id_sequence (8th column) counts packets handed to each queue.
        appliance.succeed(
            "awk '{ n += $8 } END { exit !(n > 0) }' /proc/net/netfilter/nfnetlink_queue"
        )

    with subtest("an address in the image's blocklist is dropped"):
        server.succeed(fetch("${net.blocked}") + " | grep -qx hello")
        client.fail(fetch("${net.blocked}"))

    with subtest("an address added to the site's blocklist is dropped both ways after a reload"):
        appliance.succeed(f"echo ${net.client} > {site_list}")
        appliance.succeed("systemctl reload mamori-netd.service")
        appliance.wait_until_succeeds(in_block4("${net.client}"), timeout=30)
        client.fail(fetch("${net.server}"))
        client.fail(ping("${net.server}"))
        server.fail(ping("${net.client}"))
        appliance.succeed(in_block4("${net.blocked}"))

        appliance.succeed(f": > {site_list}")
        appliance.succeed("systemctl reload mamori-netd.service")
        appliance.wait_until_fails(in_block4("${net.client}"), timeout=30)
        client.succeed(fetch("${net.server}") + " | grep -qx hello")
        server.succeed(ping("${net.client}"))
        client.fail(fetch("${net.blocked}"))

    with subtest("netd restores its table when it is deleted by hand"):
        appliance.succeed("nft delete table inet mamori")
        appliance.wait_until_succeeds(queue_rule, timeout=30)
        appliance.succeed(in_block4("${net.blocked}"))
        client.succeed(fetch("${net.server}") + " | grep -qx hello")

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
