# Helpers for the lab's in-VM scripts and scenarios (bash; busybox supplies
# the small tools, the host's ip, nft, curl, socat and conntrack the rest).
#
# A scenario is a file tests/lab/scenarios/NN-name.sh, sourced in its own
# shell with this library loaded. It ends by calling `pass` or `fail REASON`;
# falling off the end, or running past its time limit, counts as a failure.
# It may define `cleanup` (run on every exit) to undo what it changed.
#
# Topology (see README.md):
#   netns client  eth0 10.77.0.2/24 fd77::2/64   -- lan0 --+
#                                                          mamori0 (root ns: the appliance)
#   netns server  eth0 10.77.0.1/24 fd77::1/64   -- wan0 --+
#                      10.77.0.3    fd77::3   (listed in the blocklist)

# shellcheck disable=SC2034 # used by the scenarios that source this file
SERVER4=10.77.0.1
CLIENT4=10.77.0.2
BLOCKED4=10.77.0.3
SERVER6=fd77::1
CLIENT6=fd77::2
BLOCKED6=fd77::3

LAB_RUN=/run/lab                              # scratch space, results
LAB_LOGS=/run/lab/logs                        # sent back to the host (target/lab/vm-logs)
WWW=/srv/www                                  # the server's document root
ETC=/etc/mamori
INSPECT_CONF=$ETC/inspect.toml
NETD_CONF=$ETC/netd.toml
EVE=/var/log/mamori/eve.json
CONTROL_SOCKET=/run/mamori-inspect/control.sock
LAB_INTEL=/lab/intel                          # signed bundles v1, v2 (lab.list), key, TLS certificate
BUNDLE=/var/lib/mamori/intel/current.bundle   # [intel] bundle in inspect.toml

# --- running things -------------------------------------------------------------

in_client() { ip netns exec client "$@"; }
in_server() { ip netns exec server "$@"; }

# log MSG: a progress line in the scenario's log and on the console (the host
# shows console lines starting with [vm] as they come).
log() {
  echo "[vm] ${SCENARIO:-lab}: $*"
  [ -c /dev/console ] && echo "[vm] ${SCENARIO:-lab}: $*" >/dev/console
}

# now_ms: milliseconds since boot.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# wait_for COND [SECONDS]: evaluate the shell command COND until it succeeds;
# fails when SECONDS (default 10) pass first. Polls every 100 ms.
wait_for() {
  _wf_deadline=$(($(now_ms) + ${2:-10} * 1000))
  while :; do
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    [ "$(now_ms)" -lt "$_wf_deadline" ] || return 1
    sleep 0.1
  done
}

# --- results ----------------------------------------------------------------------

pass() {
  echo PASS >"$LAB_RUN/result.$SCENARIO"
  exit 0
}

# fail REASON: the scenario failed; REASON is one line a person can act on.
fail() {
  printf 'FAIL %s' "$*" | tr '\n' ' ' >"$LAB_RUN/result.$SCENARIO"
  echo "FAIL: $*" >&2
  exit 1
}

# check COND REASON: fail with REASON unless COND (a shell command) succeeds.
check() { eval "$1" >/dev/null 2>&1 || fail "$2"; }

# --- inspect ------------------------------------------------------------------------

# inspect_ctl CMD: send one line to inspect's control socket, print the answer line.
inspect_ctl() {
  printf '%s\n' "$1" | socat -t 3 -T 5 - "UNIX-CONNECT:$CONTROL_SOCKET" 2>/dev/null | head -n1
}

inspect_alive() { [ "$(inspect_ctl ping)" = pong ]; }

# inspect_stat NAME: the number NAME in the `stats` answer (empty if absent).
inspect_stat() {
  inspect_ctl stats | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p" | head -n1
}

inspect_pid() { cat "$LAB_RUN/inspect.pid" 2>/dev/null; }

# start_inspect: start mamori-inspect in the background; wait until it answers ping.
start_inspect() {
  mkdir -p "$(dirname "$CONTROL_SOCKET")"
  echo "--- start $(date)" >>"$LAB_LOGS/inspect.log"
  RUST_LOG=${RUST_LOG:-info} mamori-inspect run --config "$INSPECT_CONF" >>"$LAB_LOGS/inspect.log" 2>&1 &
  echo $! >"$LAB_RUN/inspect.pid"
  wait_for inspect_alive "${1:-60}"
}

# kill_inspect [SIGNAL]: kill inspect (default KILL) and wait until it is gone.
kill_inspect() {
  _pid=$(inspect_pid)
  [ -n "$_pid" ] || return 0
  kill "-${1:-KILL}" "$_pid" 2>/dev/null
  wait_for "! kill -0 $_pid" 10
}

# queue_bound: some process is bound to an NFQUEUE (kernel's view).
# (proc files have size 0: read it.)
queue_bound() { grep -q . /proc/net/netfilter/nfnetlink_queue 2>/dev/null; }

# netd_once: converge the bridge and ruleset from the config, as the service does.
netd_once() {
  echo "--- netd --once $(date)" >>"$LAB_LOGS/netd.log"
  mamori-netd --once --config "$NETD_CONF" >>"$LAB_LOGS/netd.log" 2>&1
}

# eve_count STRING...: number of EVE lines containing every STRING (fixed strings).
eve_count() {
  [ -f "$EVE" ] || { echo 0; return; }
  cp "$EVE" "$LAB_RUN/eve.sel"
  for _s in "$@"; do
    grep -F -e "$_s" "$LAB_RUN/eve.sel" >"$LAB_RUN/eve.sel2"
    mv "$LAB_RUN/eve.sel2" "$LAB_RUN/eve.sel"
  done
  wc -l <"$LAB_RUN/eve.sel"
}

# eve_has STRING...: some EVE line contains every STRING.
eve_has() { [ "$(eve_count "$@")" -gt 0 ]; }

# --- clients --------------------------------------------------------------------------

# http_get URL OUT [CURL-ARGS...]: fetch URL from the client into OUT. Prints
# the HTTP status (000 if none) and returns curl's exit status.
http_get() {
  _url=$1 _out=$2
  shift 2
  in_client curl -sS -g --max-time "${HTTP_TIMEOUT:-10}" -o "$_out" -w '%{http_code}' "$@" "$_url" 2>>"$LAB_RUN/curl.err"
}

# get_block_page URL BODY FORBIDDEN: fetch URL into BODY (headers into
# BODY.headers) and fail unless the client got the Japanese block page (HTTP
# 403, UTF-8 HTML, says ブロック) and not the blocked content (FORBIDDEN, a
# fixed string from it).
get_block_page() {
  _url=$1 _body=$2 _forbidden=$3
  rm -f "$_body" "$_body.headers"
  _code=$(http_get "$_url" "$_body" -D "$_body.headers")
  _rc=$?
  grep -qF "$_forbidden" "$_body" 2>/dev/null && fail "$_url: the blocked content reached the client (HTTP $_code)"
  [ "$_code" = 403 ] || fail "$_url: want the block page (HTTP 403), got HTTP $_code (curl exit $_rc)"
  grep -qi '^content-type: *text/html; *charset=utf-8' "$_body.headers" \
    || fail "$_url: block page Content-Type is '$(grep -i '^content-type' "$_body.headers" | tr -d '\r')'"
  grep -qF 'ブロック' "$_body" || fail "$_url: the 403 page does not say ブロック"
}

# echo_session LINES OUT ERR: in the background, an interactive TCP session
# from the client to the server's echo port (7000): LINES lines, 50 ms apart,
# each echoed back into OUT; socat's errors into ERR. Sets ECHO_PID.
echo_session() {
  in_client bash -c "for i in \$(seq 1 $1); do echo \"line \$i\"; sleep 0.05; done" \
    | in_client socat -t 10 -T 20 - "TCP:$SERVER4:7000" >"$2" 2>"$3" &
  ECHO_PID=$!
}

# udp_echo HOST PORT MSG: send MSG in one datagram from the client, print the
# first datagram that comes back (nothing within 5 s: prints nothing).
udp_echo() {
  # head, not bash's read: read takes one byte per call, which on a datagram
  # socket throws the rest of the datagram away.
  in_client bash -c 'exec 3<>"/dev/udp/$1/$2" && printf "%s\n" "$3" >&3 && timeout 5 head -n 1 <&3' \
    udp_echo "$@" 2>/dev/null
}

# dns_query NAME [SERVER [TYPE]]: the client asks SERVER (default $SERVER4)
# for NAME with busybox nslookup: A and AAAA from one socket, as stub
# resolvers do, or only TYPE (a, aaaa). Prints the sorted answers on one
# line ("10.77.0.1 fd77::1", "0.0.0.0 ::"), else the error ("NXDOMAIN",
# "timeout"); an unanswered AAAA just leaves "::" out.
dns_query() {
  _dq=$(in_client nslookup ${3:+-type=$3} -timeout=3 -retry=1 "$1" "${2:-$SERVER4}" 2>&1)
  {
    # Answers follow a "Name:" line; the server's own "Address:" line comes before.
    echo "$_dq" | sed -n "/^Name:/,/^\$/ s/^Address: *//p; s/^\*\* server can't find [^:]*: *//p"
    case "$_dq" in *"timed out"*) echo timeout ;; esac
  } | sort -u | tr '\n' ' ' | sed 's/ $//'
  echo
}

# tls_get NAME [ADDR]: the client fetches https://NAME/ with NAME resolved to
# ADDR (default $SERVER4) by curl, so the name is only in the TLS SNI. Prints
# the body; returns curl's exit status (35/56 with "reset" on stderr for a
# reset); stderr goes to $LAB_RUN/tls.err.
tls_get() {
  _ta=${2:-$SERVER4}
  case "$_ta" in *:*) _ta="[$_ta]" ;; esac
  in_client curl -sS -k --max-time 10 --resolve "$1:443:$_ta" "https://$1/" 2>"$LAB_RUN/tls.err"
}

# hostport HOST PORT: HOST:PORT for socat, IPv6 literals in brackets.
hostport() {
  case "$1" in
    *:*) echo "[$1]:$2" ;;
    *) echo "$1:$2" ;;
  esac
}

# tcp_echo HOST PORT MSG: send MSG to the TCP echo server from the client,
# print what comes back before the server closes (5 s at most).
tcp_echo() {
  printf '%s\n' "$3" | in_client socat -t 5 -T 5 - "TCP:$(hostport "$1" "$2")" 2>/dev/null
}

# sha FILE: SHA-256 of FILE.
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

# www_sha NAME: SHA-256 of the file NAME the server serves.
www_sha() { sha "$WWW/$1"; }

# slow NAME [MS]: the path that serves file NAME paced by the server, 8 KiB
# every MS milliseconds (default 100: about 80 KiB/s; slow.bin takes ~10 s).
# (curl's --limit-rate does not hold a download back: the kernel buffers it.)
slow() { echo "cgi-bin/slow?$1&ms=${2:-100}"; }

# url4 PATH / url6 PATH: the server's URL for PATH.
url4() { echo "http://$SERVER4/$1"; }
url6() { echo "http://[$SERVER6]/$1"; }

# --- state ------------------------------------------------------------------------------

# restore_etc: put /etc/mamori back as the lab shipped it, and bundle v1 as
# the intel bundle (scenarios that edit configs call this in `cleanup`).
restore_etc() {
  cp /lab/etc/netd.toml /lab/etc/inspect.toml /lab/etc/blocklist.txt "$ETC/"
  cp /lab/rules/*.rules "$ETC/rules/"
  [ -f "$LAB_INTEL/v1.bundle" ] && install_bundle v1
  return 0
}

# install_bundle NAME: /lab/intel/NAME.bundle (v1, v2) becomes the bundle
# file inspect reads at start and on `reload`; renamed into place, as the
# agent installs bundles, so inspect never reads half a file.
install_bundle() {
  mkdir -p "$(dirname "$BUNDLE")"
  cp "$LAB_INTEL/$1.bundle" "$BUNDLE.new" && mv -f "$BUNDLE.new" "$BUNDLE"
}

_lab_on_exit() {
  _rc=$?
  trap - EXIT
  if command -v cleanup >/dev/null 2>&1; then cleanup || true; fi
  exit $_rc
}
