# The lab's topology and services, built once at boot by /init (see lib.sh
# for the picture). Problems go to $LAB_RUN/setup-errors; scenarios still run
# and fail on what they need, so one broken piece does not hide the others.

setup_error() { echo "$*" >>"$LAB_RUN/setup-errors"; echo "setup error: $*"; }

# Loaded up front; anything else nft needs is autoloaded through /sbin/modprobe.
LAB_MODULES="veth bridge br_netfilter nf_tables nf_conntrack nf_conntrack_netlink nfnetlink_queue
  nft_queue nft_ct nft_reject_inet nft_reject_bridge nf_reject_ipv4 nf_reject_ipv6"

setup_modules() {
  # libcrc32c (nf_tables, nf_conntrack) has only a soft dependency on a crc32c
  # implementation; without one loaded first, nf_tables does not load.
  modprobe crc32c_generic || setup_error "modprobe crc32c_generic failed"
  for m in $LAB_MODULES; do
    modprobe "$m" || setup_error "modprobe $m failed"
  done
}

# make_ns NAME ADDR4 ADDR6 PORT: namespace NAME with eth0 (ADDR4/24, ADDR6/64),
# whose veth peer PORT stays in the root namespace.
make_ns() {
  ip netns add "$1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  ip link add "$4" type veth peer name eth0 netns "$1"
  ip -n "$1" link set lo up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" -6 addr add "$3/64" dev eth0 nodad
  ip -n "$1" link set eth0 up
  ip link set "$4" up
}

setup_topology() {
  ip link set lo up
  sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  make_ns server "$SERVER4" "$SERVER6" wan0 || setup_error "netns server"
  make_ns client "$CLIENT4" "$CLIENT6" lan0 || setup_error "netns client"
  # The blocked address is never the default source: 10.77.0.3 is secondary,
  # fd77::3 deprecated (preferred_lft 0), so replies and pings the server
  # starts come from .1 unless a test binds .3 on purpose.
  ip -n server addr add "$BLOCKED4/24" dev eth0
  ip -n server -6 addr add "$BLOCKED6/64" dev eth0 nodad preferred_lft 0
  # The client resolves names at the server's DNS (ip netns exec mounts
  # /etc/netns/client/resolv.conf over /etc/resolv.conf).
  mkdir -p /etc/netns/client
  echo "nameserver $SERVER4" >/etc/netns/client/resolv.conf
  touch /etc/resolv.conf
}

# Files the server serves. Random content so nothing compresses or repeats.
setup_www() {
  mkdir -p "$WWW/cgi-bin"
  # /cgi-bin/slow?NAME: NAME paced by the server, for downloads that must last.
  cp /lab/vm/slow.cgi "$WWW/cgi-bin/slow"
  chmod 755 "$WWW/cgi-bin/slow"
  echo "hello from the mamori lab" >"$WWW/index.html"
  # /listed/: the path the lab's intel list names (url-prefix 10.77.0.1/listed).
  mkdir -p "$WWW/listed"
  echo "MZ pretend malware from the mamori lab" >"$WWW/listed/payload.exe"
  cat >"$WWW/eicar.com.txt" <<'EOF'
X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*
EOF
  dd if=/dev/urandom of="$WWW/small.bin" bs=1024 count=256 2>/dev/null
  dd if=/dev/urandom of="$WWW/slow.bin" bs=1024 count=768 2>/dev/null
  dd if=/dev/urandom of="$WWW/big.bin" bs=1M count=8 2>/dev/null
  # depth.bin: the EICAR string 3 MiB in, past the 1 MiB stream depth.
  {
    dd if=/dev/urandom bs=1M count=3 2>/dev/null
    cat "$WWW/eicar.com.txt"
    dd if=/dev/urandom bs=1024 count=64 2>/dev/null
  } >"$WWW/depth.bin"
  # eicar.http: a whole HTTP response (headers and a small body) for a server
  # that writes it in one go, as nginx and Apache do for small files.
  { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
      "$(wc -c <"$WWW/eicar.com.txt")"; cat "$WWW/eicar.com.txt"; } >"$WWW/eicar.http"
  cat >/lab/oneshot-http <<EOF
#!/bin/bash
# Read the request head, then answer with the whole response at once.
while IFS= read -r l; do l=\${l%\$'\r'}; [ -z "\$l" ] && break; done
cat "$WWW/eicar.http"
EOF
  chmod 755 /lab/oneshot-http
  # tls-http: the page behind the TLS port.
  cat >/lab/tls-http <<'EOF2'
#!/bin/bash
while IFS= read -r l; do l=${l%$'\r'}; [ -z "$l" ] && break; done
body="hello over tls from the mamori lab"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
  $((${#body} + 1)) "$body"
EOF2
  chmod 755 /lab/tls-http
}

setup_servers() {
  in_server httpd -p 80 -h "$WWW" || setup_error "httpd did not start"
  # TCP echo (port 7000) and UDP echo (port 9000), IPv4 and IPv6.
  in_server socat -d -lf "$LAB_LOGS/echo-tcp.log" TCP6-LISTEN:7000,ipv6only=0,reuseaddr,fork EXEC:cat &
  in_server socat -lf "$LAB_LOGS/echo-udp.log" -T 2 UDP6-RECVFROM:9000,ipv6only=0,fork EXEC:cat &
  # Port 8080: every request gets eicar.http in one write (headers and body together).
  in_server socat -lf "$LAB_LOGS/oneshot-http.log" TCP6-LISTEN:8080,ipv6only=0,reuseaddr,fork \
    EXEC:/lab/oneshot-http &
  command -v iperf3 >/dev/null && in_server iperf3 -s -D --logfile "$LAB_LOGS/iperf3.log"
  # Port 443: TLS with the lab's self-signed certificate, a small page for any request.
  [ -f /lab/intel/tls.pem ] && in_server socat -lf "$LAB_LOGS/tls.log" \
    OPENSSL-LISTEN:443,pf=ip6,ipv6only=0,reuseaddr,fork,cert=/lab/intel/tls.pem,verify=0 EXEC:/lab/tls-http &
  # DNS: every name under .example is the server itself, listed or not, so a
  # listed name resolves like any other unless inspect answers in its place.
  in_server dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --user=root --group=root \
    --listen-address="$SERVER4" --listen-address="$SERVER6" --bind-interfaces \
    --address="/example/$SERVER4" --address="/example/$SERVER6" \
    --pid-file="$LAB_RUN/dnsmasq.pid" --log-queries --log-facility="$LAB_LOGS/dnsmasq.log" \
    || setup_error "dnsmasq did not start (exit $?), see dnsmasq.log"
  wait_for "in_server netstat -ltn | grep -q ':80 ' && in_server netstat -ltn | grep -q ':7000 ' \
    && in_server netstat -ltn | grep -q ':8080 ' \
    && in_server netstat -lun | grep -q ':9000 ' && in_server netstat -lun | grep -q ':53 '" 20 \
    || setup_error "test servers are not listening"
  if [ -f /lab/intel/tls.pem ]; then
    wait_for "in_server netstat -ltn | grep -q ':443 '" 10 || setup_error "the TLS server (port 443) is not listening"
  fi
}

# The appliance: bridge, ruleset and inspection, as the real services set them up.
setup_appliance() {
  mkdir -p "$ETC/rules" /var/lib/mamori
  restore_etc
  if [ "$(cat /lab/plain)" = 1 ]; then
    echo "plain mode: bridge by ip, no netd, no inspect"
    ip link add mamori0 type bridge
    ip link set wan0 master mamori0
    ip link set lan0 master mamori0
    ip link set mamori0 up
    return
  fi
  netd_once || setup_error "mamori-netd --once failed (exit $?), see netd.log"
  [ -e /sys/class/net/mamori0/brif/wan0 ] && [ -e /sys/class/net/mamori0/brif/lan0 ] \
    || setup_error "bridge mamori0 does not hold wan0 and lan0 after netd --once"
  nft list table inet mamori >/dev/null 2>&1 || setup_error "table inet mamori not loaded after netd --once"
  start_inspect 90 || setup_error "mamori-inspect run does not answer ping within 90s, see inspect.log"
}

lab_setup() {
  set -x
  setup_modules
  setup_topology
  setup_www
  setup_servers
  setup_appliance
  wait_for "in_client ping -c1 -W1 $SERVER4" 30 || setup_error "client cannot ping the server through the bridge"
  ip -d link show
  nft list ruleset
  # The JSON netd compares its definition with (services/netd/src/ruleset.rs, Shape).
  nft -j list table inet mamori
  set +x
}
