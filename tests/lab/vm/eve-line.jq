# One EVE event as one console line for the demo (jq -R: tolerates a torn
# line): time, type, client -> server, what it was about, and the verdict.
def ep(ip; port): if (ip | tostring | test(":")) then "[\(ip)]:\(port)" else "\(ip):\(port)" end;
def peers: if .src_ip then "\(ep(.src_ip; .src_port // 0)) → \(ep(.dest_ip; .dest_port // 0))" else "" end;
def what:
  if .event_type == "alert" then "\(.alert.action // "") sid \(.alert.signature_id) \"\(.alert.signature)\""
  elif .event_type == "http" then
    "\(.http.http_method // "?") http://\(.http.hostname // "")\(.http.url // "")"
    + (if .http.status then " → \(.http.status)" else "" end)
  elif .event_type == "dns" then
    "\(.dns.type // "") \([.dns.queries[]? | "\(.rrname) \(.rrtype)"] | join(", "))"
    + (if .dns.type == "response" then " → \(.dns.rcode // "") \([.dns.answers[]? | .rdata // empty] | join(" "))" else "" end)
  elif .event_type == "tls" then "sni \(.tls.sni // "-")" + (if .tls.version then " \(.tls.version)" else "" end)
  elif .event_type == "quic" then "sni \(.quic.sni // "-")"
  elif .event_type == "fileinfo" then
    "\(.fileinfo.filename // "-") \(.fileinfo.size // 0) bytes sha256 \((.fileinfo.sha256 // "")[0:16])…"
  elif .event_type == "flow" then
    "\(.app_proto // .proto) \(.flow.pkts_toserver // 0)/\(.flow.pkts_toclient // 0) pkts"
    + " \(.flow.bytes_toserver // 0)/\(.flow.bytes_toclient // 0) bytes, \(.flow.reason // "")"
  elif .event_type == "drop" then "reason \(.drop.reason // "-")"
  elif .event_type == "anomaly" then "\(.anomaly.app_proto // "") \(.anomaly.event // "")"
  else "" end;
def intel:
  if .intel then
    (.intel.matches[0] // {}) as $m
    | "  ⇒ intel \(.intel.action): \($m.matched // "?") (\($m.threat_ja // $m.category_ja // "?"), list \($m.list // "?"))"
  else "" end;
fromjson? | select(.event_type != "stats")
| "[eve] \((.timestamp // "")[11:19]) \(.event_type) \(peers)  \(what)\(intel)"
