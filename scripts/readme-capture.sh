#!/usr/bin/env bash
# Regenerates the console capture at the top of README.md from the real program: builds
# bisonsync, runs `bisonsync --demo` in a tmux pane, starts a full sync with the keyboard,
# switches the Run view to the run's timeline (v), captures the screen once the run is over
# (or after AFTER seconds), quits, and puts the capture between the README's markers.
# Needs tmux and the database the README's commands use (DATABASE_URL or the libpq variables).
set -euo pipefail
cd "$(dirname "$0")/.."

width=${WIDTH:-100} height=${HEIGHT:-36} after=${AFTER:-20}
work=$(mktemp -d)
sock="bisonsync-capture-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/bisonsync" .
tmux -L "$sock" -f /dev/null new-session -d -s cap -x "$width" -y "$height" \
  -e "DATABASE_URL=${DATABASE_URL:-}" "$work/bisonsync --demo; sleep 60"

wait_for() { # text, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do
    tmux -L "$sock" capture-pane -p -t cap | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "readme-capture: '$1' did not appear on the screen" >&2
  tmux -L "$sock" capture-pane -p -t cap >&2
  exit 1
}

wait_for "Jason Binyon" 30
tmux -L "$sock" send-keys -t cap S
wait_for "[y/n]" 5
tmux -L "$sock" send-keys -t cap y
wait_for "IN PROGRESS" 10
tmux -L "$sock" send-keys -t cap v
for _ in $(seq 1 $(( after * 10 ))); do
  tmux -L "$sock" capture-pane -p -t cap | grep -qF -- "finished:" && break
  sleep 0.1
done
tmux -L "$sock" capture-pane -p -t cap | sed -e 's/[[:space:]]*$//' > "$work/screen.txt"
tmux -L "$sock" send-keys -t cap q
sleep 0.3
tmux -L "$sock" send-keys -t cap y 2>/dev/null || true

# Replace what is between the markers; everything else in README.md stays as it is.
awk -v screen="$work/screen.txt" '
  /<!-- capture:begin -->/ { print; print "```text"; while ((getline line < screen) > 0) print line; print "```"; skip = 1; next }
  /<!-- capture:end -->/   { skip = 0 }
  !skip { print }
' README.md > "$work/README.md"
mv "$work/README.md" README.md
echo "readme-capture: README.md updated (${width}x${height}, the timeline of a full sync)"
