#!/usr/bin/env bash
# Quitting while the data set is being simulated (issue 10 §5): the process must not run its
# exit-time teardown while worker threads are inside OpenBLAS (that was SIGSEGV, exit 139, about
# one quit in six). Every way out, many times, each during in-flight work, each restoring the
# terminal:
#   A. q                         x16  exit 0
#   B. Ctrl-C (the key)          x4   exit 130
#   C. SIGINT, SIGTERM, SIGHUP   x1   exit 130, 143, 129 (128 + signal, as a shell reports it)
# The model is a ResNet-18 topology (48x48 input, 16 channels in the first stage, 48 samples)
# built at test time by scripts/make_imagenet_bundle.py: large enough that every start has a
# data-set report running when the keys arrive, small enough to load in a second.
#
#   bash Tests/e2e/quit.sh [BINARY]        (or CSSDBG=BINARY)
. "$(dirname "$0")/lib.sh"
e2e_init quit "${1:-}"

if [ -n "${CSSDBG_QUIT_MODEL:-}" ]; then  # another bundle to quit on (e.g. to reproduce on a larger one)
    MODEL=$CSSDBG_QUIT_MODEL
else
    PY=$(scripts/pyenv.sh) || { echo "quit: no Python tooling venv (scripts/pyenv.sh failed)"; exit 1; }
    MODEL=$E2E_TMP/resnet
    "$PY" scripts/make_imagenet_bundle.py --out "$MODEL" --size 48 --width 16 --classes 10 --samples 48 --calib 4 \
        --bn-images 8 >/dev/null || { echo "quit: could not build the model"; exit 1; }
fi

# Starts the debugger and waits until the focused sample is on screen and the data-set report
# is running (its progress bar in the status line).
busy() {
    start "$MODEL" --no-session
    wait_for "Layers" && wait_re 'report [^ ]* [0-9]+%'
}

# quit_case LABEL STATUS ACTION...: a fresh start, ACTION while busy, then the exit status and
# the terminal.
quit_case() {
    local label=$1 want=$2
    shift 2
    if ! busy; then
        bad "$label: the report was not running (nothing in flight to quit during)"
        return
    fi
    "$@"
    if ! wait_dead; then
        bad "$label: still running"
        return
    fi
    local got
    got=$(exit_status)
    if [ "$got" = "$want" ] && restored; then
        ok "$label: exit $got, terminal restored"
    else
        bad "$label: exit status '$got' (want $want), terminal restored: $(restored && echo yes || echo no)"
    fi
}

signal() { kill -s "$1" "$(pane_pid)"; }

for i in $(seq 1 16); do quit_case "A$i q while the report runs" 0 keys q; done
for i in $(seq 1 4); do quit_case "B$i Ctrl-C while the report runs" 130 keys C-c; done
quit_case "C SIGINT while the report runs" 130 signal INT
quit_case "C SIGTERM while the report runs" 143 signal TERM
quit_case "C SIGHUP while the report runs" 129 signal HUP
finish
