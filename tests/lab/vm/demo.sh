# The demo (tests/lab/run --demo), sourced by /init after setup instead of
# the scenarios: the LAN client browses through the appliance in rounds
# while inspect's EVE events stream to the console, one line each
# (vm/eve-line.jq). Lines start with [demo] (what the client did and what
# it got) or [eve] (what inspect logged); the host shows only those.

demo_say() { echo "[demo] $*"; }

# page_result FILE CODE: what a fetched page was, in a few words.
page_result() {
  case "$2" in
    403) grep -qF 'ブロック' "$1" 2>/dev/null && echo "HTTP 403: Mamori's block page ($(reason_of "$1"))" || echo "HTTP 403" ;;
    000) echo "no answer" ;;
    *) echo "HTTP $2, $(wc -c <"$1" 2>/dev/null || echo 0) bytes" ;;
  esac
}

# reason_of FILE: the block page's 理由 (reason) line.
reason_of() { sed -n 's:.*<dt>理由</dt><dd>\(.*\)</dd>.*:\1:p' "$1" | head -n1; }

demo_get() { # LABEL URL [CURL-ARGS...]
  _label=$1 _url=$2
  shift 2
  rm -f "$LAB_RUN/demo.page"
  _code=$(http_get "$_url" "$LAB_RUN/demo.page" "$@")
  _rc=$?
  _why=""
  [ $_rc = 0 ] || _why=" — $(tail -n1 "$LAB_RUN/curl.err")"
  demo_say "  $_label → $(page_result "$LAB_RUN/demo.page" "$_code")$_why"
}

demo_tls() { # NAME
  if _body=$(tls_get "$1"); then
    demo_say "  TLS https://$1/ → page loaded ($_body)"
  else
    demo_say "  TLS https://$1/ → failed: $(tail -n1 "$LAB_RUN/tls.err" | sed 's/^curl: //')"
  fi
}

demo_round() { # N
  demo_say "round $1: the LAN client ($CLIENT4) browses"
  demo_get "GET $(url4 index.html)" "$(url4 index.html)"
  demo_get "GET http://www.news.example/ (category SNS: logged)" "$(url4 index.html)" -H 'Host: www.news.example'
  demo_get "GET http://www.games.example/ (category games: blocked)" "$(url4 index.html)" -H 'Host: www.games.example'
  demo_get "GET http://$SERVER4/listed/payload.exe (listed URL)" "$(url4 listed/payload.exe)"
  demo_get "GET the EICAR test file (IPS rule 9000001)" "http://$SERVER4:8080/eicar.com"
  demo_say "  DNS www.fine.example → $(dns_query www.fine.example)"
  demo_say "  DNS www.evil.example (listed: phishing) → $(dns_query www.evil.example)"
  demo_tls www.fine.example
  demo_tls login.evil.example
  if [ $(($1 % 3)) = 1 ] && command -v iperf3 >/dev/null; then
    _rate=$(in_client iperf3 -c "$SERVER4" -t 3 -b 20M --connect-timeout 3000 2>&1 | awk '/receiver/ {print $7, $8}')
    demo_say "  iperf3 3 s at up to 20 Mbit/s → ${_rate:-failed}"
  fi
}

# demo_run SECONDS: rounds every few seconds for SECONDS (0: until the VM is stopped).
demo_run() {
  _secs=$1
  demo_say "the appliance is up: bridge mamori0 between the LAN client ($CLIENT4, $CLIENT6)"
  demo_say "and the Internet server ($SERVER4, $SERVER6); mamori-inspect judges every packet on NFQUEUE 0-1"
  demo_say "with the lab's IPS rules and its signed intel bundle (tests/lab/intel/lab.list)."
  if [ "$_secs" -gt 0 ]; then demo_say "traffic for ${_secs}s"; else demo_say "traffic until Ctrl-C"; fi
  # The stream: tail and jq as separate processes, so both can be stopped by pid.
  : >>"$EVE"
  mkfifo "$LAB_RUN/eve.fifo"
  tail -n 0 -F "$EVE" >"$LAB_RUN/eve.fifo" 2>/dev/null &
  _tail=$!
  if command -v jq >/dev/null; then
    jq -R --unbuffered -r -f /lab/vm/eve-line.jq <"$LAB_RUN/eve.fifo" &
  else
    while IFS= read -r _l; do echo "[eve] ${_l:0:200}"; done <"$LAB_RUN/eve.fifo" &
  fi
  _fmt=$!
  (
    n=1
    while :; do
      demo_round "$n"
      n=$((n + 1))
      # Pacing for the reader, not synchronisation.
      sleep 4
    done
  ) &
  _gen=$!
  if [ "$_secs" -gt 0 ]; then sleep "$_secs"; else wait "$_gen"; fi
  kill "$_gen" 2>/dev/null
  for pid in $(ip netns pids client 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  kill "$_tail" "$_fmt" 2>/dev/null
  demo_say "end after ${_secs}s; inspect stats: $(inspect_ctl stats)"
}
