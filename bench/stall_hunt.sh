#!/usr/bin/env bash
# Hunts for a stalled trace: drives the real binary under tmux with random θ changes, layer moves
# and sample changes while the data-set report runs, and after every change waits for the new
# trace ("loading sample" gone). A change not answered within --stall seconds is a stall: the
# script dumps every thread's stack of the live process (gdb) and the event log, then stops.
#
#   bench/stall_hunt.sh [--minutes 10] [--stall 30] [--bin .build/release/cssdbg] [--seed N]
#                       MODEL [cssdbg options...]
#   e.g. bench/stall_hunt.sh --minutes 20 .cache/resnet18-imagenet-1000
#
# Output: one line per change (key, ms to the new trace), a summary, and on a stall the stacks
# in $CSSDBG_STALL_DIR (default .build/stall-hunt/). Exit 0 when no change stalled.
set -uo pipefail
MINUTES=10
STALL=30
BINARY=.build/release/cssdbg
SEED=$RANDOM
while [ $# -gt 0 ]; do
    case $1 in
        --minutes) MINUTES=$2; shift 2 ;;
        --stall) STALL=$2; shift 2 ;;
        --bin) BINARY=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: bench/stall_hunt.sh [--minutes N] [--stall S] [--bin BINARY] MODEL [options...]" >&2; exit 2; }
MODEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BINARY in /*) ;; *) BINARY=$ROOT/$BINARY ;; esac
OUT=${CSSDBG_STALL_DIR:-$ROOT/.build/stall-hunt}
mkdir -p "$OUT"
CSSDBG=$BINARY
export CSSDBG
TIMEOUT=$STALL
E2E_AFTER_TIMEOUT=$STALL
. "$ROOT/Tests/e2e/lib.sh"
e2e_init stall-hunt
EVENTS=$E2E_TMP/events.log
E2E_ENV=(CSSDBG_EVENT_LOG="$EVENTS")
RANDOM=$SEED

start "$MODEL" --no-session "$@"
TIMEOUT=120 wait_for "Layers" || { bad "the debugger did not come up"; finish; exit 1; }
pid=$(pane_pid)
echo "seed $SEED; pid $pid; a change not answered in $STALL s counts as a stall" >&2

dump() { # dump WHY: the stacks, the event log and the screen into $OUT
    local f
    f=$OUT/stall-$(date +%Y%m%d-%H%M%S).txt
    dump_stacks "$f" "$EVENTS"
    sed -i "1i # $1 (model $MODEL, seed $SEED)" "$f"
    echo "stall: stacks and log in $f" >&2
}

# Nothing in flight, by the event log: the key was read, every host request (a θ change) was
# answered and its reply taken by the loop, and every trace asked for was summarised, cancelled or
# failed. (The screen alone cannot tell: "loading sample" shows only once the host has answered.)
count() { grep -c -E " ($1)( |\$)" "$EVENTS"; }
settled() { # settled KEYS_BEFORE
    [ "$(count key)" -gt "$1" ] || return 1
    local hr; hr=$(count host-request)
    [ "$(count host-replied)" -ge "$hr" ] && [ "$(count host-reply)" -ge "$hr" ] || return 1
    [ "$(count 'trace-summarised|trace-cancelled|trace-failed')" -ge "$(count trace-request)" ]
}
keys_for() { # a random change: θ up/down (selected layer), another layer, another sample
    case $((RANDOM % 10)) in
        0|1|2) echo ">" ;;
        3|4) echo "<" ;;
        5) echo "]" ;;
        6) echo "[" ;;
        7) echo "j" ;;
        8) echo "k" ;;
        9) echo "g" ;;
    esac
}
changes=0 stalls=0 slowest=0
end=$((SECONDS + MINUTES * 60))
while [ $SECONDS -lt $end ]; do
    k=$(keys_for)
    before=$(count key)
    t=${EPOCHREALTIME/[.,]/}
    keys "$k"
    changes=$((changes + 1))
    if ! wait_until settled "$before"; then
        stalls=$((stalls + 1))
        dump "key '$k' (change $changes): work still in flight after $STALL s"
        break
    fi
    ms=$(( (${EPOCHREALTIME/[.,]/} - t) / 1000 ))
    [ "$ms" -gt "$slowest" ] && slowest=$ms
    report=$(screen | grep -oE '(report|recomputing) [^ ]* [0-9]+%' | head -1)
    echo "  $changes: '$k' answered in $ms ms${report:+ ($report)}" >&2
    # Mostly quick successions (changes while the last one's report restarts), sometimes a pause.
    case $((RANDOM % 8)) in
        0) sleep $((RANDOM % 8 + 2)) ;;
        1|2|3) sleep "0.$((RANDOM % 10))" ;;
        *) ;;
    esac
done
hwm=$(awk '/^VmHWM:/ {printf "%d", $2 / 1024}' "/proc/$pid/status" 2>/dev/null)
echo "peak RSS (VmHWM) ${hwm:-?} MiB" >&2
cp "$EVENTS" "$OUT/events-seed$SEED.log"  # kept for bench/phases.awk
echo "$changes changes in $MINUTES min, $stalls stall(s), slowest answer $slowest ms (seed $SEED); event log: $OUT/events-seed$SEED.log"
if [ "$stalls" -eq 0 ]; then
    keys q
    TIMEOUT=3 wait_for "Quit without saving" >/dev/null 2>&1 && keys y
    wait_dead && [ "$(exit_status)" = 0 ] && ok "quit, exit 0" || bad "quit"
else
    bad "a change stalled (see $OUT)"
fi
finish
