#!/usr/bin/env bash
# Peak resident memory of a debugger session: drives the real binary under tmux through θ
# changes and sample changes, while the data-set report runs and after it finished, and prints
# the process's VmHWM (peak RSS, from /proc) and its VmRSS at the end.
#
#   bench/tui_session_rss.sh [--rounds 4] [--bin .build/release/cssdbg] MODEL [cssdbg options...]
#   e.g. bench/tui_session_rss.sh .cache/resnet18-imagenet            (scripts/make_imagenet_bundle.py)
#        bench/tui_session_rss.sh .cache/resnet18-imagenet --memory 1.5G
#
# A round: θ of the selected layer +5 % (`>`), next layer (`j`), next sample (`]`), each waited
# for on screen (the trace is in when "loading sample" is gone) and timed twice: in the process,
# from the key to the first frame after the new trace arrived (CSSDBG_EVENT_LOG), and by tmux
# polling. Half the rounds run while the first report computes, the other half after it finished
# (then every change recomputes it).
set -uo pipefail
ROUNDS=4
BINARY=.build/release/cssdbg
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --bin) BINARY=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: bench/tui_session_rss.sh [--rounds N] [--bin BINARY] MODEL [options...]" >&2; exit 2; }
MODEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
case $BINARY in /*) ;; *) BINARY=$(cd "$(dirname "$0")/.." && pwd)/$BINARY ;; esac
CSSDBG=$BINARY
export CSSDBG
TIMEOUT=${CSSDBG_E2E_TIMEOUT:-600}
# The 1 s look for "loading sample" below may time out by design (a change answered at once);
# that must not cut the later waits (the report takes minutes at 224×224) to the harness's 10 s.
E2E_AFTER_TIMEOUT=$TIMEOUT
. "$(dirname "$0")/../Tests/e2e/lib.sh"
e2e_init tui-rss
EVENTS=$E2E_TMP/events.log
E2E_ENV=(CSSDBG_EVENT_LOG="$EVENTS")
STACKS=${CSSDBG_STALL_DIR:-$PWD/.build/stall-hunt}  # where a stall's stacks go (e2e_init is at the root)

peak_kb=0
pid=""
sample() { # reads VmHWM of the binary (kB) into peak_kb
    local v
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 0
    [ -n "$v" ] && [ "$v" -gt "$peak_kb" ] && peak_kb=$v
    return 0
}
settled_trace() { sample; ! shows "loading sample"; }
# The report indicator is gone for two reads 0.3 s apart (a θ change cancels the running report
# and starts the next one, and a single read can fall between the two).
report_idle() { ! shows_re '(report|recomputing) [^ ]* [0-9]+%|report running'; }
report_done() { sample; report_idle && sleep 0.3 && report_idle; }

t0=$SECONDS
start "$MODEL" --no-session "$@"
wait_for "Layers" || { bad "the debugger did not come up"; finish; exit 1; }
pid=$(pane_pid)
echo "started in $((SECONDS - t0)) s; pid $pid" >&2
# In-process latency from the event log: the key, then the first frame drawn after the new
# trace arrived (lines "<ms> <event> [detail]", see CSSDBG_EVENT_LOG in docs/development.md).
key_to_frame() { # key_to_frame FROM_LINE: ms from the last key before the new trace arrived to
    # the first frame after it, or "?" when the log has no such frame yet
    tail -n +"$1" "$EVENTS" | awk '$2=="key" && !a {k=$1} k && $2=="trace-arrived" {a=1}
        a && $2=="frame" {printf "%.0f", $1-k; found=1; exit} END {if (!found) printf "?"}'
}
trace_framed() { [ "$(key_to_frame "$1")" != "?" ]; }
in_process=()
timed() { # timed LABEL KEYS...: keys, then the time until the new trace is on screen
    local label=$1 t from ms
    shift
    from=$(( $(wc -l < "$EVENTS") + 1 ))
    t=${EPOCHREALTIME/[.,]/}
    keys "$@"
    # The event log says when the new trace was drawn; then tmux shows it (no "loading sample").
    if ! wait_until trace_framed "$from"; then
        local f; f=$STACKS/stall-$(date +%Y%m%d-%H%M%S).txt
        mkdir -p "$STACKS"; dump_stacks "$f" "$EVENTS"
        bad "$label: no frame with a new trace in the event log (stacks: $f)"
    fi
    wait_until settled_trace
    ms=$(key_to_frame "$from")
    in_process+=("$ms")
    echo "  $label: key to frame with the new trace $ms ms (event log); on screen after $(( (${EPOCHREALTIME/[.,]/} - t) / 1000 )) ms (tmux polling)" >&2
}
round() {
    timed "θ +5 % of the selected layer" ">"
    keys j
    timed "θ +5 % of the next layer" ">"
    timed "next sample" "]"
}
# Key latency while the report computes: send j (or k), time until the screen shows the move.
lat=()
if shows_re 'report [^ ]* [0-9]+%'; then
    for i in $(seq 1 10); do
        before=$(screen)
        k=j; [ $((i % 2)) = 0 ] && k=k
        t=${EPOCHREALTIME/[.,]/}
        keys "$k"
        while [ "$(screen)" = "$before" ]; do :; done
        lat+=($(( (${EPOCHREALTIME/[.,]/} - t) / 1000 )))
    done
    sorted=$(printf '%s\n' "${lat[@]}" | sort -n | tr '\n' ' ')
    echo "key latency while the report runs (ms, incl. tmux capture): $sorted" >&2
    keys g
fi
half=$((ROUNDS / 2))
for i in $(seq 1 "$half"); do round; echo "round $i (report running) at $((SECONDS - t0)) s, peak $((peak_kb / 1024)) MiB" >&2; done
wait_until report_done || bad "the report did not finish"
echo "report done at $((SECONDS - t0)) s, peak $((peak_kb / 1024)) MiB" >&2
for i in $(seq $((half + 1)) "$ROUNDS"); do
    round
    wait_until report_done
    echo "round $i (report recomputed) at $((SECONDS - t0)) s, peak $((peak_kb / 1024)) MiB" >&2
done
sample
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
cmd memory
wait_for "holding" && screen | grep -oE 'memory [0-9].*holding [0-9.]+ [MG]iB' | head -1 >&2
# q, then y to the unsaved-θ question (quitting during a search: bench/tui_continue.sh; during
# in-flight work 20 times: Tests/e2e/quit.sh).
tq=${EPOCHREALTIME/[.,]/}
keys q
TIMEOUT=3 wait_for "Quit without saving" >/dev/null 2>&1 && keys y
wait_dead && [ "$(exit_status)" = 0 ] && restored && ok "session ended with q (y to the unsaved-θ question), exit 0, after $(( (${EPOCHREALTIME/[.,]/} - tq) / 1000 )) ms" || bad "quit"
echo "key to frame with the new trace (ms, event log): $(printf '%s\n' "${in_process[@]}" | sort -n | tr '\n' ' ')"
echo "peak RSS (VmHWM) $((peak_kb / 1024)) MiB; RSS at the end ${rss_kb:+$((rss_kb / 1024)) MiB}; $((SECONDS - t0)) s"
finish >/dev/null
