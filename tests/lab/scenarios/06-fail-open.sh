# Killing inspect keeps traffic flowing (fail-open: the queue rule has the
# bypass flag), a download running across the kill and the restart completes
# intact, and the restarted inspect inspects again (the EICAR download is
# blocked again).

check inspect_alive "inspect does not answer ping"
check queue_bound "no process is bound to the NFQUEUE before the kill"

# 768 KiB paced at about 53 KiB/s: ~15 s, so it spans the kill and the
# restart, and stays under the 1 MiB depth, so inspect sees all of it.
in_client curl -sS --max-time 90 -o /tmp/06-slow -w '%{http_code}' "$(url4 "$(slow slow.bin 150)")" \
  >/tmp/06-slow.code 2>/tmp/06-slow.err &
dl=$!
wait_for "[ -s /tmp/06-slow ]" 15 || fail "the long download did not start"

log "killing inspect (SIGKILL)"
kill_inspect KILL || fail "inspect did not die"
wait_for "! queue_bound" 10 || fail "the kernel still lists a queue listener after inspect died"

# Nothing inspects now: new connections of every kind must still pass.
[ "$(in_client curl -sS --max-time 10 "$(url4 index.html)")" = "hello from the mamori lab" ] \
  || fail "with inspect dead, a new HTTP connection fails: not fail-open"
[ "$(in_client curl -sS -g --max-time 10 "$(url6 index.html)")" = "hello from the mamori lab" ] \
  || fail "with inspect dead, a new HTTP connection over IPv6 fails: not fail-open"
[ "$(udp_echo "$SERVER4" 9000 udp-while-dead)" = udp-while-dead ] \
  || fail "with inspect dead, UDP does not pass: not fail-open"
[ "$(tcp_echo "$SERVER4" 7000 tcp-while-dead)" = tcp-while-dead ] \
  || fail "with inspect dead, the TCP echo does not answer: not fail-open"

log "restarting inspect"
start_inspect 90 || fail "inspect does not answer ping within 90 s of its restart"
running=yes
kill -0 "$dl" 2>/dev/null || running=no

wait "$dl"
rc=$?
[ $rc = 0 ] && [ "$(cat /tmp/06-slow.code)" = 200 ] && [ "$(sha /tmp/06-slow)" = "$(www_sha slow.bin)" ] \
  || fail "the download running across the kill and restart broke (curl exit $rc, HTTP $(cat /tmp/06-slow.code), $(stat -c %s /tmp/06-slow) bytes; $(tail -n1 /tmp/06-slow.err))"

[ $running = yes ] || fail "the long download ended before inspect was back: the test did not cover a restart mid-flow"

# Inspection resumed.
packets_before=$(inspect_stat packets)
alerts_before=$(eve_count '"signature_id":9000001' '"action":"blocked"')
code=$(http_get "$(url4 eicar.com.txt)" /tmp/06-eicar)
grep -qF 'EICAR-STANDARD' /tmp/06-eicar 2>/dev/null && fail "after the restart the EICAR download is no longer blocked (HTTP $code)"
wait_for "[ \$(eve_count '\"signature_id\":9000001' '\"action\":\"blocked\"') -gt $alerts_before ]" 10 \
  || fail "after the restart no EVE alert with action blocked for the EICAR download"
[ "$(inspect_stat packets)" -gt "${packets_before:-0}" ] || fail "the restarted inspect counts no packets"
pass
