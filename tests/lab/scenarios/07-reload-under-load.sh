# Replacing the IPS rules (control socket `reload`) and the block sets
# (`mamori-netd --once` with a new blocklist) while connections are running
# loses none of them, does not flap the bridge, and the new rules and sets
# take effect.

NEW4=10.77.0.4
cleanup() {
  restore_etc
  netd_once
  inspect_ctl reload >/dev/null
  in_server ip addr del "$NEW4/24" dev eth0 2>/dev/null
  return 0
}

check inspect_alive "inspect does not answer ping"
in_server ip addr add "$NEW4/24" dev eth0
[ "$(in_client curl -sS --max-time 10 "http://$NEW4/index.html")" = "hello from the mamori lab" ] \
  || fail "control: $NEW4 is not reachable before it is listed"

ifindex=$(cat /sys/class/net/mamori0/ifindex)
flaps_wan=$(cat /sys/class/net/wan0/carrier_changes)
flaps_lan=$(cat /sys/class/net/lan0/carrier_changes)

# Load, all under the inspection depth so inspect sees every packet: an
# interactive TCP session (200 lines, 50 ms apart, each echoed), two paced
# downloads (IPv4 and IPv6, ~10 s each) and a steady TCP stream.
echo_session 200 /tmp/07-echo.out /tmp/07-echo.err
echo_pid=$ECHO_PID
in_client curl -sS --max-time 90 -o /tmp/07-dl4 -w '%{http_code}' "$(url4 "$(slow slow.bin)")" \
  >/tmp/07-dl4.code 2>/tmp/07-dl4.err &
dl4=$!
in_client curl -sS -g --max-time 90 -o /tmp/07-dl6 -w '%{http_code}' "$(url6 "$(slow slow.bin)")" \
  >/tmp/07-dl6.code 2>/tmp/07-dl6.err &
dl6=$!
# 360 kbit/s for 20 s: about 900 KB, under the depth.
in_client iperf3 -c "$SERVER4" -t 20 -b 360K --connect-timeout 5000 --forceflush >/tmp/07-iperf.out 2>&1 &
iperf=$!
wait_for "[ -s /tmp/07-echo.out ] && [ -s /tmp/07-dl4 ] && [ -s /tmp/07-dl6 ] && grep -q 'sec' /tmp/07-iperf.out" 15 \
  || fail "the load did not start (echo $(wc -c </tmp/07-echo.out) B, downloads $(wc -c </tmp/07-dl4) B, $(wc -c </tmp/07-dl6) B, iperf3: $(tail -n1 /tmp/07-iperf.out))"

# New rules: one more drop rule, on a URL path.
cat >>"$ETC/rules/lab.rules" <<'RULE'
drop http any any -> any any (msg:"MAMORI-LAB rule added by reload"; flow:established,to_server; http.uri; content:"/mamori-new-rule"; sid:9000003; rev:1;)
RULE
# New sets: fd77::3 leaves the list, 10.77.0.4 joins it.
printf '%s\n' "$BLOCKED4" "$NEW4" >"$ETC/blocklist.txt"

log "load running; replacing rules and sets"
for round in 1 2 3; do
  answer=$(inspect_ctl reload)
  case "$answer" in ok*) ;; *) fail "reload round $round: inspect answered '$answer', want ok" ;; esac
  netd_once || fail "reload round $round: mamori-netd --once failed, see netd.log"
  log "round $round: rules and sets replaced"
done
ended=""
kill -0 "$echo_pid" 2>/dev/null || ended="$ended echo"
kill -0 "$dl4" 2>/dev/null || ended="$ended download-v4"
kill -0 "$dl6" 2>/dev/null || ended="$ended download-v6"
kill -0 "$iperf" 2>/dev/null || ended="$ended iperf3"
[ -z "$ended" ] || { cat /tmp/07-iperf.out; fail "load ($ended ) ended before the replacements were done: the test did not cover them"; }

wait "$echo_pid"
[ "$(wc -l </tmp/07-echo.out)" = 200 ] && [ "$(tail -n1 /tmp/07-echo.out)" = "line 200" ] \
  || fail "the TCP session lost data: $(wc -l </tmp/07-echo.out) of 200 lines echoed ($(tail -n1 /tmp/07-echo.err))"
wait "$dl4" "$dl6"
for v in 4 6; do
  [ "$(cat /tmp/07-dl$v.code)" = 200 ] && [ "$(sha /tmp/07-dl$v)" = "$(www_sha slow.bin)" ] \
    || fail "the IPv$v download broke during the replacements (HTTP $(cat /tmp/07-dl$v.code), $(stat -c %s /tmp/07-dl$v) bytes; $(tail -n1 /tmp/07-dl$v.err))"
done

wait "$iperf" || fail "the iperf3 stream broke during the replacements: $(grep -i error /tmp/07-iperf.out | head -n1)"

[ "$(cat /sys/class/net/mamori0/ifindex)" = "$ifindex" ] || fail "the bridge was recreated"
[ "$(cat /sys/class/net/wan0/carrier_changes)" = "$flaps_wan" ] && [ "$(cat /sys/class/net/lan0/carrier_changes)" = "$flaps_lan" ] \
  || fail "a bridge port flapped (carrier changes wan0 $flaps_wan -> $(cat /sys/class/net/wan0/carrier_changes), lan0 $flaps_lan -> $(cat /sys/class/net/lan0/carrier_changes))"

# The new sets apply.
HTTP_TIMEOUT=3 http_get "http://$NEW4/index.html" /tmp/07-out >/dev/null
rc=$?
[ $rc = 28 ] || fail "$NEW4 was added to the blocklist but is not dropped (curl exit $rc)"
[ "$(in_client curl -sS -g --max-time 10 "http://[$BLOCKED6]/index.html")" = "hello from the mamori lab" ] \
  || fail "$BLOCKED6 was removed from the blocklist but is still dropped"
# The new rule applies.
code=$(http_get "$(url4 mamori-new-rule)" /tmp/07-new)
[ "$code" = 403 ] || fail "the rule added by reload did not block (HTTP $code, want the 403 block page)"
pass
