# An IPS rule with action drop (sid 9000001, the EICAR test string in an HTTP
# body) stops the download: the client never gets the file, it gets
# Mamori's Japanese block page instead, and EVE records the blocked alert.
# Other downloads keep working.
#
# Port 8080 answers like nginx or Apache with a small file: headers and body
# in one segment, so the page replaces the whole response. busybox httpd
# (port 80) sends the headers first; once a client has them no page can be
# slipped in, and the download is cut with resets instead (checked too).

check inspect_alive "inspect does not answer ping"
eicar=$(head -c 20 "$WWW/eicar.com.txt")

for url in "http://$SERVER4:8080/eicar.com" "http://[$SERVER6]:8080/eicar.com"; do
  alerts_before=$(eve_count '"signature_id":9000001' '"action":"blocked"')
  get_block_page "$url" /tmp/03-body "$eicar"
  grep -qF '03-1234-5678' /tmp/03-body || fail "$url: the block page lacks the contact from inspect.toml"
  wait_for "[ \$(eve_count '\"signature_id\":9000001' '\"action\":\"blocked\"') -gt $alerts_before ]" 10 \
    || fail "$url: no EVE alert with action blocked for sid 9000001"
done

# Headers already delivered: no page, but the file does not get through either.
for url in "$(url4 eicar.com.txt)" "$(url6 eicar.com.txt)"; do
  rm -f /tmp/03-split
  HTTP_TIMEOUT=15 http_get "$url" /tmp/03-split >/dev/null
  grep -qF "$eicar" /tmp/03-split 2>/dev/null && fail "$url: the EICAR file reached the client past split headers"
done

# The block was for that flow only.
[ "$(in_client curl -sS --max-time 10 "$(url4 index.html)")" = "hello from the mamori lab" ] \
  || fail "a clean page no longer loads after the block"
code=$(HTTP_TIMEOUT=30 http_get "$(url4 small.bin)" /tmp/03-small)
[ "$code" = 200 ] && [ "$(sha /tmp/03-small)" = "$(www_sha small.bin)" ] \
  || fail "a clean 256 KiB download failed after the block (HTTP $code)"
pass
