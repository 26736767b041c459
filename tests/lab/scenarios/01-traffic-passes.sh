# Traffic passes the bridge, both ways, through inspect: TCP (HTTP over IPv4
# and IPv6, an 8 MiB download arrives intact), UDP, ICMP and ICMPv6; the
# connections of one host pair spread over both inspect queues; the
# download's payload-less ACKs skip the queue (netd's pure_ack chain).

plain=$(cat /lab/plain)
if [ "$plain" != 1 ]; then
  check inspect_alive "inspect does not answer ping"
  packets_before=$(inspect_stat packets)
  [ -n "$packets_before" ] || fail "inspect stats has no \"packets\" counter: $(inspect_ctl stats)"
fi

# Packets netd's pure_ack chain accepted without queueing them.
pure_acks() {
  nft list chain inet mamori pure_ack 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}
acks_before=$(pure_acks)

body=$(in_client curl -sS --max-time 10 "$(url4 index.html)")
[ "$body" = "hello from the mamori lab" ] || fail "HTTP over IPv4: got '$body'"
body=$(in_client curl -sS -g --max-time 10 "$(url6 index.html)")
[ "$body" = "hello from the mamori lab" ] || fail "HTTP over IPv6: got '$body'"

code=$(HTTP_TIMEOUT=60 http_get "$(url4 big.bin)" /tmp/01-big.bin) || fail "8 MiB download failed (curl exit $?, HTTP $code)"
[ "$(sha /tmp/01-big.bin)" = "$(www_sha big.bin)" ] || fail "8 MiB download arrived corrupted or short"
rm -f /tmp/01-big.bin
if [ "$plain" != 1 ]; then
  acks=$(($(pure_acks) - acks_before))
  [ "$acks" -ge 10 ] || fail "the 8 MiB download's ACKs were queued ($acks skipped the queue; netd's pure_ack chain)"
  log "pure ACKs not queued during the download: $acks"
fi

out=$(udp_echo "$SERVER4" 9000 udp-hello-4)
[ "$out" = udp-hello-4 ] || fail "UDP over IPv4: echo got '$out'"
out=$(udp_echo "$SERVER6" 9000 udp-hello-6)
[ "$out" = udp-hello-6 ] || fail "UDP over IPv6: echo got '$out'"

out=$(tcp_echo "$SERVER4" 7000 tcp-hello-4)
[ "$out" = tcp-hello-4 ] || fail "TCP echo over IPv4: got '$out'"
out=$(tcp_echo "$SERVER6" 7000 tcp-hello-6)
[ "$out" = tcp-hello-6 ] || fail "TCP echo over IPv6: got '$out'"

check "in_client ping -c 2 -W 3 $SERVER4" "ICMP: client cannot ping $SERVER4"
check "in_client ping6 -c 2 -W 3 $SERVER6" "ICMPv6: client cannot ping $SERVER6"
# The other way: the Internet side reaches the LAN host.
check "in_server ping -c 2 -W 3 $CLIENT4" "ICMP: server cannot ping $CLIENT4"
check "in_server ping6 -c 2 -W 3 $CLIENT6" "ICMPv6: server cannot ping $CLIENT6"

if [ "$plain" != 1 ]; then
  packets_after=$(inspect_stat packets)
  # This traffic queues about a hundred packets (the download is bypassed
  # past the 1 MiB stream depth, and pure ACKs skip the queue); none at all
  # means inspect is not in the path.
  [ "${packets_after:-0}" -ge $((packets_before + 30)) ] \
    || fail "inspect saw $((${packets_after:-0} - packets_before)) packets of this traffic; it is not in the path"
  # Connections between one pair of hosts spread over the queues (netd's
  # symmetric flow hash, not the address pair): 16 connections all on one of
  # the two queues would happen once in 32,768 runs.
  last_id() { awk -v q="$1" '$1 == q { print $8 }' /proc/net/netfilter/nfnetlink_queue; }
  q0=$(last_id 0) q1=$(last_id 1)
  for _ in $(seq 16); do
    in_client curl -sS --max-time 10 -o /dev/null "$(url4 index.html)" || fail "HTTP over IPv4 failed while spreading"
  done
  [ "$(last_id 0)" -gt "${q0:-0}" ] && [ "$(last_id 1)" -gt "${q1:-0}" ] \
    || fail "16 connections of one host pair did not reach both queues (queue 0: $q0 -> $(last_id 0), queue 1: $q1 -> $(last_id 1))"
fi
pass
