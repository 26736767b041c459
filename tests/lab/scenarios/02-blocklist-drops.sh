# An address in the block sets (the lab's blocklist.txt lists 10.77.0.3 and
# fd77::3, the server's second addresses) is dropped in both directions,
# while the server's first address, on the same host, still works.
#
# Each direction is checked on its own with one-way UDP: a datagram from or
# to the blocked address never reaches the receiver, while one sent after it
# on the unblocked address does. (A ping or a TCP connection would fail even
# if only one direction were blocked.)

cleanup() {
  [ -n "${rx_server-}" ] && kill "$rx_server" 2>/dev/null
  [ -n "${rx_client-}" ] && kill "$rx_client" 2>/dev/null
  return 0
}

# Control: the same host on its unblocked addresses.
[ "$(in_client curl -sS --max-time 10 "$(url4 index.html)")" = "hello from the mamori lab" ] \
  || fail "control: $SERVER4 unreachable, nothing to compare with"

# What a user sees: pages on the blocked address do not load. Dropped, not
# refused: curl times out (28) rather than failing to connect (7: a reset or
# an ICMP error).
HTTP_TIMEOUT=3 http_get "http://$BLOCKED4/index.html" /tmp/02-out >/dev/null
rc=$?
[ $rc = 28 ] || fail "HTTP to blocked $BLOCKED4: curl exit $rc, want 28 (timeout: silently dropped)"
HTTP_TIMEOUT=3 http_get "http://[$BLOCKED6]/index.html" /tmp/02-out >/dev/null
rc=$?
[ $rc = 28 ] || fail "HTTP to blocked $BLOCKED6: curl exit $rc, want 28 (timeout: silently dropped)"

# One-way receivers on port 9101 on both sides.
rm -f /tmp/02-server-got /tmp/02-client-got
in_server socat -u UDP6-RECV:9101,ipv6only=0 OPEN:/tmp/02-server-got,creat,append &
rx_server=$!
in_client socat -u UDP6-RECV:9101,ipv6only=0 OPEN:/tmp/02-client-got,creat,append &
rx_client=$!
wait_for "in_server netstat -lun | grep -q ':9101 ' && in_client netstat -lun | grep -q ':9101 '" 10 \
  || fail "the UDP receivers did not start"

# send NS FROM TO WORD: one datagram WORD from address FROM in netns NS to TO:9101.
send() {
  echo "$4" | ip netns exec "$1" socat -u - "UDP:$(hostport "$3" 9101),bind=$(hostport "$2" 0)" 2>/dev/null
}

# LAN -> Internet.
send client "$CLIENT4" "$BLOCKED4" to-blocked-4
send client "$CLIENT6" "$BLOCKED6" to-blocked-6
send client "$CLIENT4" "$SERVER4" to-open-4
send client "$CLIENT6" "$SERVER6" to-open-6
# Internet -> LAN.
send server "$BLOCKED4" "$CLIENT4" from-blocked-4
send server "$BLOCKED6" "$CLIENT6" from-blocked-6
send server "$SERVER4" "$CLIENT4" from-open-4
send server "$SERVER6" "$CLIENT6" from-open-6

wait_for "grep -q to-open-4 /tmp/02-server-got && grep -q to-open-6 /tmp/02-server-got" 10 \
  || fail "control: datagrams to the server's open addresses did not arrive ($(tr '\n' ' ' </tmp/02-server-got))"
wait_for "grep -q from-open-4 /tmp/02-client-got && grep -q from-open-6 /tmp/02-client-got" 10 \
  || fail "control: datagrams from the server's open addresses did not arrive ($(tr '\n' ' ' </tmp/02-client-got))"
for w in to-blocked-4 to-blocked-6; do
  grep -q "$w" /tmp/02-server-got && fail "LAN -> blocked address: datagram $w reached the server"
done
for w in from-blocked-4 from-blocked-6; do
  grep -q "$w" /tmp/02-client-got && fail "blocked address -> LAN: datagram $w reached the client"
done

# Control again, so a blocked path that broke everything does not pass.
[ "$(in_client curl -sS -g --max-time 10 "$(url6 index.html)")" = "hello from the mamori lab" ] \
  || fail "control: $SERVER6 unreachable after the blocked attempts"
pass
