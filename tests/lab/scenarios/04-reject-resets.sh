# A reject rule (sid 9000002: "MAMORI-REJECT-ME" to the TCP echo port 7000)
# resets the connection: the client sees a reset instead of its echo, the
# server's side is reset too, and EVE records the blocked alert.

check inspect_alive "inspect does not answer ping"
[ "$(tcp_echo "$SERVER4" 7000 harmless-line)" = harmless-line ] || fail "control: the TCP echo does not answer"

rejects_before=$(inspect_stat rejects)
alerts_before=$(eve_count '"signature_id":9000002' '"action":"blocked"')
server_resets_before=$(grep -c 'reset by peer' "$LAB_LOGS/echo-tcp.log" 2>/dev/null)

for host in "$SERVER4" "$SERVER6"; do
  # The client keeps its side open (ignoreeof) so that only a reset ends it
  # before 10 s without traffic. socat reports a reset as a warning (-d).
  out=$(printf 'MAMORI-REJECT-ME\n' | in_client socat -d -T 10 STDIO,ignoreeof "TCP:$(hostport "$host" 7000)" 2>&1)
  rc=$?
  case "$out" in
    *MAMORI-REJECT-ME*) fail "$host: the rejected payload was echoed back" ;;
  esac
  case "$out" in
    *"Connection reset by peer"*) ;;
    *) fail "$host: the client was not reset (socat exit $rc: $(echo "$out" | tail -n1))" ;;
  esac
done

wait_for "[ \$(grep -c 'reset by peer' '$LAB_LOGS/echo-tcp.log') -ge $((${server_resets_before:-0} + 2)) ]" 10 \
  || fail "the server side was not reset (echo server log: $(tail -n1 "$LAB_LOGS/echo-tcp.log"))"
wait_for "[ \$(eve_count '\"signature_id\":9000002' '\"action\":\"blocked\"') -ge $((alerts_before + 2)) ]" 10 \
  || fail "no EVE alert with action blocked for sid 9000002 per connection"
rejects_after=$(inspect_stat rejects)
[ "${rejects_after:-0}" -gt "${rejects_before:-0}" ] || fail "inspect's \"rejects\" counter did not move (${rejects_before:-?} -> ${rejects_after:-?})"

[ "$(tcp_echo "$SERVER4" 7000 harmless-again)" = harmless-again ] || fail "the TCP echo no longer works after the reject"
pass
