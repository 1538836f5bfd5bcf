#!/usr/bin/env bash
# Breakpoints at the size users run: drives the real binary under tmux on MODEL with one
# breakpoint and measures what a user meets when pressing `c`:
#   1. `c` while the first data-set report is still computing (the search must simulate):
#      time until the hit's message is on screen, and whether progress was shown
#   2. `c` again after the report finished (the search reuses it): time until the next hit
#   3. a θ change (`>`) typed during a search: it cancels the search, nothing moves
#   4. `q` during a search: exit status (must be 0) and the terminal restored
# and prints the process's peak RSS (VmHWM from /proc) over the session.
#
#   bench/tui_continue.sh [--bin .build/release/cssdbg] [--break COND] MODEL [cssdbg options...]
#   e.g. bench/tui_continue.sh .cache/resnet18-imagenet          (scripts/make_imagenet_bundle.py)
#
# Default condition: 'coupling' (any spiking layer). Not a test: it prints figures.
set -uo pipefail
BINARY=.build/release/cssdbg
COND=coupling
while [ $# -gt 0 ]; do
    case $1 in
        --bin) BINARY=$2; shift 2 ;;
        --break) COND=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: bench/tui_continue.sh [--bin BINARY] [--break COND] MODEL [options...]" >&2; exit 2; }
MODEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
case $BINARY in /*) ;; *) BINARY=$(cd "$(dirname "$0")/.." && pwd)/$BINARY ;; esac
[ -x "$BINARY" ] || { echo "tui_continue.sh: no binary at $BINARY (swift build -c release --product cssdbg, or --bin)" >&2; exit 2; }
CSSDBG=$BINARY
export CSSDBG
TIMEOUT=${CSSDBG_E2E_TIMEOUT:-1800}
. "$(dirname "$0")/../Tests/e2e/lib.sh"
e2e_init tui-continue

peak_kb=0
pid=""
sample_rss() {
    local v
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 0
    [ -n "$v" ] && [ "$v" -gt "$peak_kb" ] && peak_kb=$v
    return 0
}
settled_trace() { sample_rss; ! shows "loading sample"; }
now_ms() { echo $(( ${EPOCHREALTIME/[.,]/} / 1000 )); }
message() { screen | grep -oE '(break 1: .*|no further hit.*|[cC]: .*cancelled.*)' | head -1 | sed 's/ *$//'; }
# wait_hit START_MS PREVIOUS: polls until a message other than PREVIOUS (a hit, "no further
# hit", a cancellation) is on screen, noting whether a progress line was seen on the way.
wait_hit() {
    local t0=$1 prev=$2 s m progress=no
    while :; do
        sample_rss
        s=$(screen)
        grep -qE ':continue … [0-9]+%' <<<"$s" && progress=yes
        m=$(grep -oE '(break 1: .*|no further hit.*|[cC]: .*cancelled.*)' <<<"$s" | head -1 | sed 's/ *$//')
        if [ -n "$m" ] && [ "$m" != "$prev" ]; then
            echo "    after $(( $(now_ms) - t0 )) ms (progress shown: $progress): $m"
            return 0
        fi
        pane_alive || { echo "    the debugger died"; return 1; }
        [ $(( $(now_ms) - t0 )) -gt $((TIMEOUT * 1000)) ] && { echo "    no answer after $TIMEOUT s"; return 1; }
        sleep 0.05
    done
}

echo "model $MODEL, breakpoint '$COND', $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now_ms)
start --no-session --break "$COND" "$@" "$MODEL"
wait_for "Layers" || { bad "the debugger did not come up"; finish; exit 1; }
pid=$(pane_pid)
echo "  up after $(( $(now_ms) - t0 )) ms"
wait_until settled_trace 2>/dev/null || true
reporting=no; shows_re 'report [^ ]* [0-9]+%' && reporting=yes
echo "  1. c (data-set report still computing: $reporting)"
keys c; wait_hit "$(now_ms)" "" || { finish; exit 1; }
# Let the report finish, then search again: it answers from the report where it can.
while shows_re 'report [^ ]* [0-9]+%'; do sample_rss; sleep 0.5; done
echo "  2. c again (report finished)"
m=$(message); keys c; wait_hit "$(now_ms)" "$m" || { finish; exit 1; }
echo "  3. θ change (>) 300 ms into a search (C, backward; on a small model it may be over by then)"
keys C; sleep 0.3; t=$(now_ms); keys '>'
TIMEOUT=10 wait_re 'cancelled|superseded' >/dev/null 2>&1 || true
echo "    after $(( $(now_ms) - t )) ms the message line says: $(settled_screen | tail -1 | sed 's/ *$//')"
echo "  4. q during a search"
keys c; sleep 0.5; sample_rss
t=$(now_ms); keys q
TIMEOUT=3 wait_for "Quit without saving" >/dev/null 2>&1 && keys y   # θ was changed in step 3
wait_dead
echo "    exited after $(( $(now_ms) - t )) ms, status $(exit_status), terminal restored: $(restored && echo yes || echo no)"
echo "  peak RSS (VmHWM): $((peak_kb / 1024)) MiB"
finish
