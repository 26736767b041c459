# A listed name in a TLS ClientHello's SNI (login.evil.example, phishing) is
# reset: the client's handshake ends in a reset, over IPv4 and IPv6, and so
# does the server's, while the same server answers for a name not listed.
# EVE has the tls event with the intel verdict. (curl resolves the names
# itself: DNS plays no part here.)

check inspect_alive "inspect does not answer ping"
want="hello over tls from the mamori lab"
for addr in "$SERVER4" "$SERVER6"; do
  out=$(tls_get www.fine.example "$addr")
  [ "$out" = "$want" ] || fail "control: https://www.fine.example/ at $addr: got '$out' ($(tail -n1 "$LAB_RUN/tls.err"))"
done
blocked_before=$(inspect_stat intel_blocked)
server_resets_before=$(grep -c 'SSL_accept.*reset by peer' "$LAB_LOGS/tls.log" 2>/dev/null)

for addr in "$SERVER4" "$SERVER6"; do
  out=$(tls_get login.evil.example "$addr")
  rc=$?
  err=$(tail -n1 "$LAB_RUN/tls.err")
  [ "$out" = "$want" ] && fail "https://login.evil.example/ at $addr: the page loaded"
  case "$rc" in 35 | 56) ;; *) fail "https://login.evil.example/ at $addr: curl exit $rc, want 35 or 56 (reset): $err" ;; esac
  case "$err" in *[Rr]eset*) ;; *) fail "https://login.evil.example/ at $addr: not a reset: $err" ;; esac
done

# The server is reset too: it does not keep a half-open handshake.
wait_for "[ \$(grep -c 'SSL_accept.*reset by peer' '$LAB_LOGS/tls.log') -ge $((${server_resets_before:-0} + 2)) ]" 10 \
  || fail "the TLS server was not reset (its log: $(tail -n1 "$LAB_LOGS/tls.log"))"
wait_for "eve_has '\"event_type\":\"tls\"' '\"sni\":\"login.evil.example\"' '\"intel\"' '\"action\":\"block\"' '\"threat\":\"phishing\"'" 10 \
  || fail "no EVE tls event for login.evil.example with an intel block (phishing)"
[ "$(inspect_stat intel_blocked)" -ge $((blocked_before + 2)) ] || fail "intel_blocked did not count the two resets"

[ "$(tls_get www.fine.example)" = "$want" ] || fail "https://www.fine.example/ no longer loads after the resets"
pass
