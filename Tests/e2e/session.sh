#!/usr/bin/env bash
# End-to-end tests of tuning and reliability on the real binary under tmux (Tests/e2e/lib.sh):
#   A. tune a layer, :w, restart with --theta: the same numbers, and the same as `eval`
#   B. kill -9 mid-session: the next start offers to restore; restoring brings the tuning back
#   C. SIGHUP and SIGTERM while the data set is being recomputed restore the terminal
#   D. a resize storm while busy: no crash, the too-small message, a clean redraw
#   E. a bad θ file: `:load` reports it and the session stays usable; `--theta` refuses it
# Every step waits for a state on the screen; numbers are read from a settled screen once the
# data-set report is complete (nothing recomputing, nothing loading).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init session

# The data-set report is complete: accuracy shown, no progress bar, not stale, no sample loading.
report_idle() {
  local s; s=$(settled_screen) || return 1
  grep -qF "hotspots" <<<"$s" || return 1
  sed -n 2p <<<"$s" | grep -qE 'SNN [0-9.]+%' || return 1
  ! grep -qE 'recomputing|report [^ ]+ [0-9]+%|report stale|loading' <<<"$s"
}
report_ready() { wait_until report_idle; }
status_acc() { settled_screen | sed -n 2p | grep -oE 'SNN [0-9.]+%' | head -1; }
theta_of() { # θ of a layer as the layer list shows it (the column under the θ header), settled
  settled_screen | python3 -c '
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
busy_or_done() { # busy_or_done STATUS_TEXT: the change is applied (STATUS_TEXT in the status line)
  local s; s=$(screen)             # and the report is being computed for it, or already done
  sed -n 1p <<<"$s" | grep -qF -- "$1" || return 1
  grep -qE '(recomputing|report) [^ ]+ [0-9]+%' <<<"$s" || report_idle
}
theta_is() { [ "$(theta_of "$1")" = "$2" ]; }        # theta_is LAYER VALUE
acc_is() { [ "$(status_acc)" = "$1" ]; }             # acc_is "SNN 97.2%"

m="$E2E_TMP/m"
cp -r samples/digits-mlp "$m"
rm -f "$m/.cssdbg-session.json"

# A. tune, save, restart with --theta
start "$m"
check "A: debugger up with the data-set report" report_ready
cmd "theta relu1 0.02"
# (the reload is queued before the message, so once the message shows the old report is stale)
if wait_for "θ relu1 = 0.02" && report_ready; then ok "A: :theta applied and the report recomputed"; else bad "A: :theta"; fi
acc1=$(status_acc); th1=$(theta_of relu1)
cmd "w $E2E_TMP/tuned.json"
check "A: :w wrote the θ file" wait_for "wrote θ"
keys q
check "A: q restores the terminal" all wait_dead restored
start "$m" --theta "$E2E_TMP/tuned.json" --no-session
report_ready
if [ -n "$acc1" ] && [ -n "$th1" ] && wait_until acc_is "$acc1" && wait_until theta_is relu1 "$th1"; then
  ok "A: restart with --theta shows the same numbers ($acc1, θ $th1)"
else bad "A: same numbers after restart ('$acc1' '$th1' vs '$(status_acc)' '$(theta_of relu1)')"; fi
headless=$("$BIN" eval "$m" --theta "$E2E_TMP/tuned.json" --json | python3 -c "import json,sys; print('SNN %.1f%%' % (json.load(sys.stdin)['snn_accuracy']*100))")
acc2=$(status_acc)
if [ "$headless" = "$acc2" ]; then ok "A: the debugger agrees with eval ($headless)"; else bad "A: debugger '$acc2' vs eval '$headless'"; fi
keys q; wait_dead

# B. crash mid-session, restore offer
start "$m"
check "B: the saved session is offered at start" wait_for "Restore the tuning session"
keys n
report_ready
cmd "focus raster"
cmd "scale relu2 1.25"
wait_for "×1.25" && report_ready
th_before=$(theta_of relu2)
kill -9 "$(pane_pid)"
wait_dead
start "$m"
check "B: after kill -9 the next start offers the session" wait_for "Restore the tuning session"
keys y
# The follow-up commands that restore the position and the screen run first, the message last;
# θ is the state to wait for (the layer list may still show the calibrated θ for a frame or two).
if [ -n "$th_before" ] && wait_for "tuning: 1 change" && report_ready && wait_until theta_is relu2 "$th_before"; then
  ok "B: restoring brings θ back ($th_before)"
else bad "B: restored θ '$(theta_of relu2)' vs '$th_before'"; fi
if wait_for "restored the session" && wait_for "▶ Raster"; then ok "B: restoring brings the screen back (raster in front)"
else bad "B: screen after restore"; fi
keys q; wait_dead

# C. signals while busy
cp -r samples/digits-resnet "$E2E_TMP/r"
for sig in HUP TERM; do
  start "$E2E_TMP/r" --no-session
  wait_for "Layers"
  cmd "set T 14"
  wait_until busy_or_done " T 14 "
  kill -s "$sig" "$(pane_pid)"
  check "C: SIG$sig while recomputing exits and restores the terminal" all wait_dead restored
done

# D. resize storm while busy
start "$E2E_TMP/r" --no-session
wait_for "Layers"
cmd "set beta 1.25"
wait_until busy_or_done "β 1.25"
for i in $(seq 1 25); do
  resize $((40 + (i * 37) % 150)) $((10 + (i * 13) % 45))
  sleep 0.05   # the storm's pace, not a wait for anything
done
resize 60 16
check "D: a small terminal gets a message" wait_for "needs at least"
resize 160 48
if wait_for "Layers" && report_ready && pane_alive; then ok "D: survives a resize storm and redraws"; else bad "D: resize storm"; fi
keys n
check "D: keys still work after the storm (n steps)" wait_re "g 1/[0-9]+"
keys q
# --no-session with an unsaved change (:set beta): q asks first (issue 14), y quits.
check "D: q after the storm asks about the unsaved change" wait_for "Quit without saving?"
keys y
check "D: y quits after the storm and restores the terminal" all wait_dead restored

# E. bad θ files
echo '{"format":"cssdbg-theta/1","theta":{"input":1}}' > "$E2E_TMP/bad.json"
start "$m" --no-session
report_ready
cmd "load $E2E_TMP/bad.json"
check "E: :load of a bad θ file says what is wrong" wait_for "bad.json: θ for tensor"
keys n
check "E: the session stays usable after the error" wait_for "g 1/"
keys q; wait_dead
out=$("$BIN" "$m" --theta "$E2E_TMP/bad.json" 2>&1 </dev/null); rc=$?
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q "bad.json"; then ok "E: --theta with a bad file exits 1 with one line"
else bad "E: --theta bad file (rc=$rc: $out)"; fi

finish
