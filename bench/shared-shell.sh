#!/usr/bin/env bash
# The approach the shared-mount daemon replaces, as build classes did it by hand: a lock file,
# `mountpoint -q`, `mount --bind`, a counts file rewritten under the lock, `umount` at zero.
#   shared-shell.sh acquire|release STATE_DIR SOURCE TARGET
set -euo pipefail
op=$1 state=$2 src=$3 target=$4
exec 9>"$state/lock"
flock 9
counts="$state/counts"
touch "$counts"
n=$(awk -v t="$target" '$1 == t { print $2 }' "$counts")
n=${n:-0}
case "$op" in
  acquire) mountpoint -q "$target" || mount --bind "$src" "$target"; n=$((n + 1)) ;;
  release) n=$((n - 1)); [ "$n" -gt 0 ] || umount "$target" ;;
esac
awk -v t="$target" -v n="$n" '$1 != t { print } END { if (n > 0) print t, n }' "$counts" > "$counts.new"
mv "$counts.new" "$counts"
