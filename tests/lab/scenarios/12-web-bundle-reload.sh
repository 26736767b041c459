# A new intel bundle loaded under traffic (bundle v2 adds fresh.example,
# botnet C2; control socket `reload`) loses no connection: a paced download
# and an interactive TCP session run across it intact. The new entry applies
# at once, the old ones stay. Going back to v1 is refused as a rollback and
# v2 stays in force.

cleanup() {
  # v2 is in force in memory; only a restart brings back the shipped v1.
  restore_etc
  kill_inspect TERM
  start_inspect 60
  return 0
}

check inspect_alive "inspect does not answer ping"
# A queries only: 08-web-dns-sinkhole covers answering A and AAAA.
out=$(dns_query c2.fresh.example "$SERVER4" a)
[ "$out" = "$SERVER4" ] || fail "control: c2.fresh.example (not in v1) resolved to '$out' before the new bundle"

# Load, under the inspection depth: an interactive session (150 lines, 50 ms
# apart, each echoed) and a paced download (slow.bin, ~10 s).
echo_session 150 /tmp/12-echo.out /tmp/12-echo.err
echo_pid=$ECHO_PID
in_client curl -sS --max-time 90 -o /tmp/12-dl -w '%{http_code}' "$(url4 "$(slow slow.bin)")" \
  >/tmp/12-dl.code 2>/tmp/12-dl.err &
dl=$!
wait_for "[ -s /tmp/12-echo.out ] && [ -s /tmp/12-dl ]" 15 \
  || fail "the load did not start (echo $(wc -c </tmp/12-echo.out) B, download $(wc -c </tmp/12-dl) B)"

log "load running; loading bundle v2"
install_bundle v2
answer=$(inspect_ctl reload)
case "$answer" in
  ok*"intel version 2"*) ;;
  *) fail "reload with bundle v2: inspect answered '$answer', want ok ... intel version 2" ;;
esac
out=$(dns_query c2.fresh.example "$SERVER4" a)
[ "$out" = 0.0.0.0 ] || fail "after v2: c2.fresh.example (botnet C2 in v2) resolved to '$out', want the sinkhole"
out=$(dns_query www.evil.example "$SERVER4" a)
[ "$out" = 0.0.0.0 ] || fail "after v2: www.evil.example (in v1 and v2) resolved to '$out', want the sinkhole"

log "back to bundle v1: must be refused"
install_bundle v1
answer=$(inspect_ctl reload)
case "$answer" in
  error*) ;;
  *) fail "reload with the older bundle v1: inspect answered '$answer', want error (rollback refused)" ;;
esac
out=$(dns_query c2.fresh.example "$SERVER4" a)
[ "$out" = 0.0.0.0 ] || fail "after the refused v1: c2.fresh.example resolved to '$out', want the sinkhole (v2 in force)"

ended=""
kill -0 "$echo_pid" 2>/dev/null || ended="$ended echo"
kill -0 "$dl" 2>/dev/null || ended="$ended download"
[ -z "$ended" ] || fail "load ($ended ) ended before the bundle swaps were done: the test did not cover them"

wait "$echo_pid"
[ "$(wc -l </tmp/12-echo.out)" = 150 ] && [ "$(tail -n1 /tmp/12-echo.out)" = "line 150" ] \
  || fail "the TCP session lost data: $(wc -l </tmp/12-echo.out) of 150 lines echoed ($(tail -n1 /tmp/12-echo.err))"
wait "$dl"
rc=$?
[ $rc = 0 ] && [ "$(cat /tmp/12-dl.code)" = 200 ] && [ "$(sha /tmp/12-dl)" = "$(www_sha slow.bin)" ] \
  || fail "the download broke during the bundle swaps (curl exit $rc, HTTP $(cat /tmp/12-dl.code), $(stat -c %s /tmp/12-dl) bytes; $(tail -n1 /tmp/12-dl.err))"
wait_for "eve_has '\"event_type\":\"dns\"' 'c2.fresh.example' '\"threat\":\"botnet_c2\"' '\"action\":\"block\"'" 10 \
  || fail "no EVE dns event for c2.fresh.example with the intel block from bundle v2"
pass
