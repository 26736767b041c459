# The intel bundle's listed addresses are blocked by the firewall: inspect
# writes the networks its policy blocks to /var/lib/mamori/intel-blocklist.txt,
# and the netd daemon, which watches its blocklist files, puts them into the
# block sets in place (no table reload). 10.77.0.6 is listed in the lab bundle
# (botnet_c2) and is added to the server for this scenario only.

EXPORT=/var/lib/mamori/intel-blocklist.txt

cleanup() {
  [ -n "${netd_pid-}" ] && kill "$netd_pid" 2>/dev/null
  in_server ip addr del 10.77.0.6/24 dev eth0 2>/dev/null
  return 0
}

in_server ip addr add 10.77.0.6/24 dev eth0 || fail "could not add 10.77.0.6 to the server"
check inspect_alive "inspect does not answer ping"
wait_for "grep -qx '10.77.0.6/32' $EXPORT" 10 \
  || fail "inspect did not export 10.77.0.6/32 to $EXPORT: $(cat $EXPORT 2>&1 | tr '\n' ' ')"

echo "--- netd daemon $(date)" >>"$LAB_LOGS/netd.log"
mamori-netd --config "$NETD_CONF" >>"$LAB_LOGS/netd.log" 2>&1 &
netd_pid=$!
wait_for "nft list set inet mamori block4 | grep -q '10.77.0.6'" 30 \
  || fail "10.77.0.6 not in set block4 after the netd daemon started: $(nft list set inet mamori block4 | tr '\n' ' ')"

# What a user sees: the listed host is unreachable, its neighbour is not.
HTTP_TIMEOUT=3 http_get "http://10.77.0.6/index.html" /tmp/13-out >/dev/null
rc=$?
[ $rc = 28 ] || fail "HTTP to listed 10.77.0.6: curl exit $rc, want 28 (dropped by the firewall)"
[ "$(in_client curl -sS --max-time 10 "$(url4 index.html)")" = "hello from the mamori lab" ] \
  || fail "the server's unlisted address stopped working"
pass
