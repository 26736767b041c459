#!/bin/bash
# /cgi-bin/slow?NAME[&ms=N]: serves the file NAME from the document root in
# 8 KiB pieces, one every N ms (default 100, about 80 KiB/s), so that a
# download lasts long enough to span what a scenario does meanwhile.
name=${QUERY_STRING%%&*}
ms=100
case "$QUERY_STRING" in *"&ms="*) ms=${QUERY_STRING##*&ms=} ;; esac
# busybox httpd runs CGI in the script's directory and sets no DOCUMENT_ROOT.
file=$(dirname "$0")/../$name
case "$name" in ""|*/*|.*) file= ;; esac
if [ -z "$file" ] || [ ! -f "$file" ]; then
  printf 'Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such file\n'
  exit 0
fi
size=$(stat -c %s "$file")
printf 'Content-Type: application/octet-stream\r\nContent-Length: %s\r\n\r\n' "$size"
pieces=$(( (size + 8191) / 8192 ))
pause=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
for ((i = 0; i < pieces; i++)); do
  dd if="$file" bs=8192 skip=$i count=1 2>/dev/null
  sleep "$pause"
done
