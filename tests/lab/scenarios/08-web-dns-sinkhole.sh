# A listed domain (evil.example, phishing, in the lab's signed bundle) does not
# resolve to its server: inspect answers the client's queries itself with the
# sinkhole addresses (A 0.0.0.0, AAAA ::), over IPv4 and IPv6, the queries
# never reach the server's DNS, and EVE has the dns event with the intel
# verdict. Names not listed get the server's answer. With dns_block =
# "nxdomain" the answer is NXDOMAIN.

cleanup() {
  restore_etc
  # inspect reads dns_block only at start.
  if [ -n "${restarted-}" ]; then kill_inspect TERM; start_inspect 60; fi
  return 0
}

check inspect_alive "inspect does not answer ping"
DNSLOG=$LAB_LOGS/dnsmasq.log
# dns_seen NAME: the server's DNS got a query for NAME.
dns_seen() { grep -qF " $1 from " "$DNSLOG"; }

for srv in "$SERVER4" "$SERVER6"; do
  out=$(dns_query www.fine.example "$srv")
  [ "$out" = "$SERVER4 $SERVER6" ] || fail "control: www.fine.example at $srv resolved to '$out', want '$SERVER4 $SERVER6' from the server"
done
blocked_before=$(inspect_stat intel_blocked)
[ -n "$blocked_before" ] || fail "inspect stats has no \"intel_blocked\" counter: $(inspect_ctl stats)"

# What a program sees through the client's system resolver (glibc, which asks
# A and AAAA at once from one socket; resolv.conf names the server): a listed
# name resolves at once, to the sinkhole, where nothing listens, so curl
# cannot connect (exit 7) rather than not resolve (6) or wait.
code=$(HTTP_TIMEOUT=20 http_get http://www.fine.example/index.html /tmp/08-fine)
[ "$code" = 200 ] || fail "control: http://www.fine.example/ through the client's resolver: HTTP $code ($(tail -n1 "$LAB_RUN/curl.err"))"
t0=$(now_ms)
HTTP_TIMEOUT=20 http_get http://www.evil.example/ /tmp/08-evil >/dev/null
rc=$?
ms=$(($(now_ms) - t0))
[ $rc = 7 ] || fail "http://www.evil.example/ through the client's resolver: curl exit $rc after $ms ms ($(tail -n1 "$LAB_RUN/curl.err")), want 7: resolved to the sinkhole"
[ $ms -lt 3000 ] || fail "resolving www.evil.example through the client's resolver took $ms ms"

# Each answer, over both transports, for the name and a name below it.
for srv in "$SERVER4" "$SERVER6"; do
  for name in www.evil.example evil.example; do
    out=$(dns_query "$name" "$srv")
    [ "$out" = "0.0.0.0 ::" ] || fail "listed $name at $srv resolved to '$out', want the sinkhole '0.0.0.0 ::'"
  done
done
# A query sent after them reaches the server's log, so theirs would have too.
[ "$(dns_query after.fine.example)" = "$SERVER4 $SERVER6" ] || fail "control: after.fine.example does not resolve after the blocked names"
wait_for "dns_seen after.fine.example" 10 || fail "control: the server's DNS log does not show after.fine.example"
dns_seen www.evil.example && fail "a query for www.evil.example reached the server's DNS: $(grep -F evil.example "$DNSLOG" | head -n1)"
dns_seen evil.example && fail "a query for evil.example reached the server's DNS"

wait_for "eve_has '\"event_type\":\"dns\"' 'www.evil.example' '\"intel\"' '\"action\":\"block\"' '\"list\":\"lab\"'" 10 \
  || fail "no EVE dns event for www.evil.example with an intel block from list lab"
blocked_after=$(inspect_stat intel_blocked)
[ "${blocked_after:-0}" -ge $((blocked_before + 8)) ] \
  || fail "intel_blocked went from $blocked_before to ${blocked_after:-?}, want 8 more (A and AAAA, 2 names, 2 servers)"

log "dns_block = nxdomain: restarting inspect"
sed -i 's/^dns_block = .*/dns_block = "nxdomain"/' "$INSPECT_CONF"
restarted=1
kill_inspect TERM || fail "inspect did not stop"
start_inspect 60 || fail "inspect with dns_block = nxdomain does not answer ping"
for srv in "$SERVER4" "$SERVER6"; do
  out=$(dns_query www.evil.example "$srv")
  [ "$out" = NXDOMAIN ] || fail "dns_block = nxdomain: www.evil.example at $srv got '$out', want NXDOMAIN"
done
t0=$(now_ms)
HTTP_TIMEOUT=20 http_get http://www.evil.example/ /tmp/08-evil >/dev/null
rc=$?
ms=$(($(now_ms) - t0))
[ $rc = 6 ] && [ $ms -lt 3000 ] \
  || fail "dns_block = nxdomain: http://www.evil.example/ through the client's resolver: curl exit $rc after $ms ms, want 6 (could not resolve) at once"
out=$(dns_query www.fine.example)
[ "$out" = "$SERVER4 $SERVER6" ] || fail "dns_block = nxdomain: www.fine.example resolved to '$out'"
pass
