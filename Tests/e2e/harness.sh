#!/usr/bin/env bash
# Tests of the end-to-end harness itself (Tests/e2e/lib.sh) with the real binary: the promises the
# other scripts rely on so that they never flake and never wait out time-outs for nothing.
#   - starting and stopping cases back to back never races the tmux server (the keeper holds it)
#   - a binary that exits at once still leaves its pane, exit status and stderr
#   - waits return at once when the pane died; a time-out is bounded by TIMEOUT, later waits of
#     the same case by E2E_AFTER_TIMEOUT
#   - `bad` prints the waits with their times and the screen it saw
#   - settled_screen returns a screen that no longer changes
#   - once the server is gone every wait fails at once
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init harness

ms_since() { echo $(( (${EPOCHREALTIME/[.,]/} - $1) / 1000 )); }
now() { echo "${EPOCHREALTIME/[.,]/}"; }

# Back-to-back cases, each ending before the next starts: the old server-per-session scheme
# raced the server's shutdown here ("server exited unexpectedly").
ok_runs=0
for i in $(seq 1 8); do
  start --help
  wait_for "USAGE" && wait_dead && [ "$(exit_status)" = 0 ] && ok_runs=$((ok_runs + 1))
done
if [ $ok_runs = 8 ]; then ok "8 back-to-back cases (start, exit, next start) all ran"; else bad "only $ok_runs of 8 back-to-back cases ran"; fi

# A binary that fails at once: pane kept, exit status, stderr, and waits return at once.
start "$E2E_TMP/no-such-model"
check "a failing start leaves a dead pane" wait_dead
check "its exit status is 1" test "$(exit_status)" = 1
if stderr_text | grep -q "no-such-model"; then ok "its one-line error is in stderr_text"; else bad "stderr_text: '$(stderr_text)'"; fi
t0=$(now)
wait_for "text that never shows"; rc=$?; ms=$(ms_since "$t0")
out=$(bad "demo failure")     # in a subshell: not counted
if [ $rc = 1 ] && [ "$ms" -lt 2000 ]; then ok "wait_for on a dead pane returns at once (${ms} ms)"; else bad "wait_for on a dead pane: rc $rc after ${ms} ms"; fi
if grep -q "wait_for 'text that never shows': FAILED after .* the pane died (exit status 1)" <<<"$out" &&
   grep -q -- "----- screen" <<<"$out" && grep -q "no-such-model" <<<"$out"; then
  ok "bad prints the failed wait with its time and reason, the screen and stderr"
else bad "bad printed: $out"; fi

# Time-outs on a live pane are bounded, and the rest of the case waits less.
start samples/digits-mlp --no-session
check "the debugger starts" wait_for "Layers"
saved_timeout=$TIMEOUT saved_after=$E2E_AFTER_TIMEOUT
TIMEOUT=3 E2E_AFTER_TIMEOUT=1
t0=$(now); wait_for "text that never shows"; rc=$?; ms=$(ms_since "$t0")
if [ $rc = 1 ] && [ "$ms" -ge 2900 ] && [ "$ms" -lt 6000 ]; then ok "a time-out of 3 s returns 1 after ${ms} ms"; else bad "time-out: rc $rc after ${ms} ms"; fi
t0=$(now); wait_gone "Layers"; rc=$?; ms=$(ms_since "$t0")
if [ $rc = 1 ] && [ "$ms" -lt 3000 ]; then ok "after a time-out the case's next wait gives up sooner (${ms} ms)"; else bad "after a time-out: rc $rc after ${ms} ms"; fi
TIMEOUT=$saved_timeout E2E_AFTER_TIMEOUT=$saved_after
rm -f "$E2E_TMP/waits"

# settled_screen: once the report is in, two reads in a row agree.
start samples/digits-mlp --no-session
wait_for "hotspots"
a=$(settled_screen) && b=$(settled_screen)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "settled_screen returns a screen that no longer changes"; else bad "settled_screen changed"; fi
keys q
check "q ends the debugger" wait_dead

# The server gone (killed behind the harness's back): every wait fails at once.
start samples/digits-mlp --no-session
wait_for "Layers"
T kill-server
t0=$(now)
wait_for "Layers"; rc1=$?
wait_dead; rc2=$?
wait_re "."; rc3=$?
ms=$(ms_since "$t0")
if [ $rc1 = 1 ] && [ $rc2 = 1 ] && [ $rc3 = 1 ] && [ "$ms" -lt 2000 ]; then ok "with the server gone three waits fail in ${ms} ms"
else bad "server gone: rc $rc1 $rc2 $rc3 after ${ms} ms"; fi
if start --help 2>/dev/null; then bad "start succeeded with the server gone"; else ok "start refuses once the server is gone"; fi
finish
