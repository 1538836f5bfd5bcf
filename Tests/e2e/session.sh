#!/usr/bin/env bash
# End-to-end tests of tuning and reliability on the real binary under tmux:
#   A. tune a layer, :w, restart with --theta: the same numbers, and the same as `eval`
#   B. kill -9 mid-session: the next start offers to restore; restoring brings the tuning back
#   C. SIGHUP and SIGTERM while the data set is being recomputed restore the terminal
#   D. a resize storm while busy: no crash, the too-small message, a clean redraw
#   E. a bad θ file: `:load` reports it and the session stays usable; `--theta` refuses it
# Polls the screen for expected text; never relies on fixed sleeps for correctness.
set -uo pipefail
BIN=${CSSDBG:-${1:-.build/debug/cssdbg}}
cd "$(dirname "$0")/../.."
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SOCK="cssdbg-session-e2e-$$"
T() { tmux -L "$SOCK" "$@"; }
tmp=$(mktemp -d)
cleanup() { T kill-server 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
TIMEOUT=${CSSDBG_E2E_TIMEOUT:-90}
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; echo "----- screen -----"; screen; echo "------------------"; }

screen() { T capture-pane -p -t s 2>/dev/null; }
start() { # start ARGS...: a fresh 160x48 session running the binary (pane stays after exit)
  T kill-session -t s 2>/dev/null
  T new-session -d -s s -x 160 -y 48 "exec $BIN $*"
  T set-option -t s remain-on-exit on >/dev/null
}
wait_for() { # wait_for FIXED_TEXT: 0 when it shows up in time
  local deadline=$((SECONDS + TIMEOUT))
  while (( SECONDS < deadline )); do
    screen | grep -qF -- "$1" && return 0
    [ "$(T display -p -t s '#{pane_dead}' 2>/dev/null)" = 1 ] && return 1
    sleep 0.1
  done
  return 1
}
wait_gone() { # wait_gone FIXED_TEXT
  local deadline=$((SECONDS + TIMEOUT))
  while (( SECONDS < deadline )); do
    screen | grep -qF -- "$1" || return 0
    sleep 0.1
  done
  return 1
}
wait_dead() {
  local deadline=$((SECONDS + 20))
  while (( SECONDS < deadline )); do
    [ "$(T display -p -t s '#{pane_dead}' 2>/dev/null)" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}
restored() { [ "$(T display -p -t s '#{alternate_on}')" = 0 ]; }
cmd() { T send-keys -t s ":$1" Enter; }
report_ready() { wait_for "hotspots" && wait_gone "recomputing"; }
status_acc() { screen | sed -n 2p | grep -oE 'SNN [0-9.]+%' | head -1; }
theta_of() { # θ of a layer as the layer list shows it (the column under the θ header)
  screen | python3 -c '
import sys
name = sys.argv[1]
left = [l.split("││")[0] for l in sys.stdin.read().splitlines()]
head = next(l for l in left if " layer " in l and "θ" in l)
end = head.index("θ")
for l in left:
    words = l.strip("│ ▸").split()
    if words and words[0] == name:
        print(l[end - 7:end + 1].split()[-1]); break
' "$1"
}

cp -r samples/digits-mlp "$tmp/m"
rm -f "$tmp/m/.cssdbg-session.json"

# A. tune, save, restart with --theta
start "$tmp/m"
if report_ready; then ok "A: debugger up with the data-set report"; else bad "A: debugger up"; fi
cmd "theta relu1 0.02"
if wait_for "θ relu1 = 0.02" && report_ready; then ok "A: :theta applied and the report recomputed"; else bad "A: :theta"; fi
acc1=$(status_acc); th1=$(theta_of relu1)
cmd "w $tmp/tuned.json"
if wait_for "wrote θ"; then ok "A: :w wrote the θ file"; else bad "A: :w"; fi
T send-keys -t s q
if wait_dead && restored; then ok "A: q restores the terminal"; else bad "A: quit"; fi
start "$tmp/m" --theta "$tmp/tuned.json" --no-session
report_ready
acc2=$(status_acc); th2=$(theta_of relu1)
if [ -n "$acc1" ] && [ "$acc1" = "$acc2" ] && [ "$th1" = "$th2" ]; then ok "A: restart with --theta shows the same numbers ($acc2, θ $th2)"
else bad "A: same numbers after restart ('$acc1' '$th1' vs '$acc2' '$th2')"; fi
headless=$("$BIN" eval "$tmp/m" --theta "$tmp/tuned.json" --json | python3 -c "import json,sys; print('SNN %.1f%%' % (json.load(sys.stdin)['snn_accuracy']*100))")
if [ "$headless" = "$acc2" ]; then ok "A: the debugger agrees with eval ($headless)"; else bad "A: debugger '$acc2' vs eval '$headless'"; fi
T send-keys -t s q; wait_dead

# B. crash mid-session, restore offer
start "$tmp/m"
if wait_for "Restore the tuning session"; then ok "B: the saved session is offered at start"; else bad "B: restore offer"; fi
T send-keys -t s n
report_ready
cmd "focus raster"
cmd "scale relu2 1.25"
wait_for "×1.25" && report_ready
th_before=$(theta_of relu2)
kill -9 "$(T display -p -t s '#{pane_pid}')"
wait_dead
start "$tmp/m"
if wait_for "Restore the tuning session"; then ok "B: after kill -9 the next start offers the session"; else bad "B: offer after kill -9"; fi
T send-keys -t s y
# (the follow-up commands that restore the position and the screen run first, the message last)
if wait_for "tuning: 1 change" && report_ready && [ "$(theta_of relu2)" = "$th_before" ]; then ok "B: restoring brings θ back ($th_before)"
else bad "B: restored θ '$(theta_of relu2)' vs '$th_before'"; fi
if wait_for "restored the session" && wait_for "▶ Raster"; then ok "B: restoring brings the screen back (raster in front)"
else bad "B: screen after restore"; fi
T send-keys -t s q; wait_dead

# C. signals while busy
cp -r samples/digits-resnet "$tmp/r"
for sig in HUP TERM; do
  start "$tmp/r" --no-session
  wait_for "Layers"
  cmd "set T 14"
  if wait_for "recomputing"; then :; fi
  kill -s "$sig" "$(T display -p -t s '#{pane_pid}')"
  if wait_dead && restored; then ok "C: SIG$sig while recomputing exits and restores the terminal"; else bad "C: SIG$sig"; fi
done

# D. resize storm while busy
start "$tmp/r" --no-session
wait_for "Layers"
cmd "set beta 1.25"
for i in $(seq 1 25); do
  T resize-window -t s -x $((40 + (i * 37) % 150)) -y $((10 + (i * 13) % 45)) 2>/dev/null
  sleep 0.05
done
T resize-window -t s -x 60 -y 16
if wait_for "needs at least"; then ok "D: a small terminal gets a message"; else bad "D: too-small message"; fi
T resize-window -t s -x 160 -y 48
if wait_for "Layers" && report_ready && [ "$(T display -p -t s '#{pane_dead}')" = 0 ]; then ok "D: survives a resize storm and redraws"; else bad "D: resize storm"; fi
T send-keys -t s q; wait_dead

# E. bad θ files
echo '{"format":"cssdbg-theta/1","theta":{"input":1}}' > "$tmp/bad.json"
start "$tmp/m" --no-session
report_ready
cmd "load $tmp/bad.json"
if wait_for "bad.json: θ for tensor"; then ok "E: :load of a bad θ file says what is wrong"; else bad "E: :load error"; fi
T send-keys -t s n
if wait_for "g 1/" ; then ok "E: the session stays usable after the error"; else bad "E: usable after error"; fi
T send-keys -t s q; wait_dead
out=$("$BIN" "$tmp/m" --theta "$tmp/bad.json" 2>&1 </dev/null); rc=$?
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q "bad.json"; then ok "E: --theta with a bad file exits 1 with one line"
else bad "E: --theta bad file (rc=$rc: $out)"; fi

echo "session: $pass passed, $fail failed"
[ $fail -eq 0 ]
