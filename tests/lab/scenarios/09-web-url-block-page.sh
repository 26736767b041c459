# A listed URL (url-prefix 10.77.0.1/listed, malware distribution) gets
# Mamori's Japanese block page naming the threat and the list, over IPv4 and
# IPv6, instead of the file the server has there; other pages of the same
# server load, and EVE has the http event with the intel verdict.

check inspect_alive "inspect does not answer ping"
[ "$(in_client curl -sS --max-time 10 "$(url4 index.html)")" = "hello from the mamori lab" ] \
  || fail "control: $(url4 index.html) does not load"
blocked_before=$(inspect_stat intel_blocked)
pages_before=$(inspect_stat block_pages)
payload=$(cat "$WWW/listed/payload.exe")

for url in "$(url4 listed/payload.exe)" "$(url6 listed/payload.exe)"; do
  get_block_page "$url" /tmp/09-body "$payload"
  grep -qF 'マルウェア配布サイト' /tmp/09-body || fail "$url: the block page does not name the threat (マルウェア配布サイト)"
  grep -qF '— lab</dd>' /tmp/09-body || fail "$url: the block page does not name the list 'lab'"
  grep -qF '/listed/payload.exe' /tmp/09-body || fail "$url: the block page does not show the blocked URL"
done

wait_for "eve_has '\"event_type\":\"http\"' '\"url\":\"/listed/payload.exe\"' '\"intel\"' '\"action\":\"block\"' '\"threat\":\"malware_distribution\"'" 10 \
  || fail "no EVE http event for /listed/payload.exe with an intel block (malware_distribution)"
[ "$(inspect_stat intel_blocked)" -ge $((blocked_before + 2)) ] || fail "intel_blocked did not count the two blocks"
[ "$(inspect_stat block_pages)" -ge $((pages_before + 2)) ] || fail "block_pages did not count the two pages"

# Only the listed path: the rest of the server still works.
[ "$(in_client curl -sS -g --max-time 10 "$(url6 index.html)")" = "hello from the mamori lab" ] \
  || fail "$(url6 index.html) no longer loads after the block"
pass
