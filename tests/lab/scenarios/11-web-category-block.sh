# A category set to block ([web.categories] games = "block") is blocked: the
# name www.games.example gets the sinkhole in DNS, its TLS is reset and a page
# on it gets the block page naming ゲーム. A category left at its default (log:
# news.example is "sns") passes everywhere and EVE logs the match.

check inspect_alive "inspect does not answer ping"
matched_before=$(inspect_stat intel_matched)
[ -n "$matched_before" ] || fail "inspect stats has no \"intel_matched\" counter: $(inspect_ctl stats)"
blocked_before=$(inspect_stat intel_blocked)

# Logged, not blocked: DNS (A only: 08-web-dns-sinkhole covers A and AAAA), TLS, a page.
out=$(dns_query www.news.example "$SERVER4" a)
[ "$out" = "$SERVER4" ] || fail "www.news.example (sns, log) resolved to '$out'"
[ "$(tls_get www.news.example)" = "hello over tls from the mamori lab" ] \
  || fail "https://www.news.example/ (sns, log) did not load: $(tail -n1 "$LAB_RUN/tls.err")"
code=$(http_get "$(url4 index.html)" /tmp/11-news -H 'Host: www.news.example')
[ "$code" = 200 ] && [ "$(cat /tmp/11-news)" = "hello from the mamori lab" ] \
  || fail "http://www.news.example/ (sns, log) did not load: HTTP $code"
wait_for "eve_has '\"event_type\":\"http\"' '\"hostname\":\"www.news.example\"' '\"category\":\"sns\"' '\"action\":\"log\"'" 10 \
  || fail "no EVE http event for www.news.example with the intel match (category sns, action log)"
wait_for "[ \$(inspect_stat intel_matched) -ge $((matched_before + 3)) ]" 10 \
  || fail "intel_matched went from $matched_before to $(inspect_stat intel_matched), want the DNS, TLS and HTTP matches counted"

# Blocked: DNS, TLS, a page.
out=$(dns_query www.games.example "$SERVER4" a)
[ "$out" = 0.0.0.0 ] || fail "www.games.example (games, block) resolved to '$out', want the sinkhole 0.0.0.0"
tls_get www.games.example >/dev/null
rc=$?
case "$rc" in 35 | 56) ;; *) fail "https://www.games.example/ (games, block): curl exit $rc, want a reset: $(tail -n1 "$LAB_RUN/tls.err")" ;; esac
wait_for "eve_has '\"event_type\":\"tls\"' '\"sni\":\"www.games.example\"' '\"category\":\"games\"' '\"action\":\"block\"'" 10 \
  || fail "no EVE tls event for www.games.example with the intel block (category games)"
rm -f /tmp/11-games
code=$(http_get "$(url4 index.html)" /tmp/11-games -H 'Host: www.games.example')
rc=$?
grep -qF 'hello from the mamori lab' /tmp/11-games 2>/dev/null && fail "http://www.games.example/ (games, block): the page loaded (HTTP $code)"
[ "$code" = 403 ] || fail "http://www.games.example/ (games, block): want the block page (HTTP 403), got HTTP $code (curl exit $rc)"
grep -qF 'ブロック' /tmp/11-games || fail "http://www.games.example/: the 403 page does not say ブロック"
grep -qF 'ゲーム' /tmp/11-games || fail "http://www.games.example/: the block page does not name the category ゲーム"
wait_for "eve_has '\"event_type\":\"http\"' '\"hostname\":\"www.games.example\"' '\"category\":\"games\"' '\"action\":\"block\"'" 10 \
  || fail "no EVE http event for www.games.example with the intel block (category games)"
[ "$(inspect_stat intel_blocked)" -ge $((blocked_before + 3)) ] || fail "intel_blocked did not count the DNS, TLS and HTTP blocks"
pass
