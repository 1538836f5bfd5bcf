# Shared harness for the end-to-end tests of the real binary under tmux. Source it, don't run it:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init NAME                 # binary from $CSSDBG, else the script's $1, else .build/debug/cssdbg
#   start samples/digits-mlp --no-session
#   check "status line shows up" wait_for "cssdbg"
#   cmd "step 4"; check ":step 4" wait_re 'g 4/[0-9]+'
#   keys q; check "q quits and restores the terminal" all wait_dead restored
#   finish
#
# Why it exists: tmux tests flaked by timing (issue 16). Here
#   - one tmux server per script, on its own socket (-L), kept alive by a keeper session for the
#     whole script, so starting and stopping cases never races the server's shutdown;
#   - every case runs in a fresh session (`start`), remain-on-exit is on server-wide before any
#     case starts, so even a binary that exits at once leaves its pane, screen and exit status;
#   - every wait is for a state, polled, bounded by $TIMEOUT, and returns at once when the pane
#     died or the server is gone; once the server is gone every later wait fails at once, and
#     after a time-out the rest of that case waits at most $E2E_AFTER_TIMEOUT seconds per wait;
#   - values read from the screen come from `settled_screen` (two identical captures ~100 ms
#     apart), never from a frame tmux is still receiving;
#   - a failing check (`bad`) prints the waits since the last check (how long each took and why
#     it ended), the screen the last read saw, and the binary's stderr.
#
# API (all waits return 0/1 and never take longer than $TIMEOUT):
#   e2e_init NAME [BINARY]   cd to the repository root, start the server, cleanup trap on exit
#   start ARGS...            fresh session running "$BIN ARGS..." at $W×$H (default 160×48);
#                            sets the current target. Environment for the binary: E2E_ENV=(V=x ..)
#                            (TERM from $E2E_TERM if set, LANG=C.UTF-8, colour/ASCII overrides unset)
#   screen                   one capture of the current pane (also remembered for `bad`)
#   settled_screen           a capture that no longer changes (returns 1 if it never settled)
#   wait_for TEXT            fixed text on screen        wait_re REGEX    extended regex on screen
#   wait_gone TEXT           fixed text no longer shown  wait_dead        the binary exited
#   shows TEXT, shows_re RE  one capture: 0 if it has TEXT / matches RE (use these, not
#                            `screen | grep -q`: under pipefail grep's early exit can SIGPIPE
#                            `screen` and turn a match into a failure)
#   wait_until CMD...        polls CMD (e.g. a function reading settled_screen) until it succeeds
#   keys KEYS...             tmux send-keys             cmd TEXT          types ":TEXT" and Enter
#   type_text TEXT           types TEXT literally (no Enter)
#   pane_pid, exit_status    the binary's pid; the dead pane's exit status
#   stderr_text              what the binary of the current case wrote to stderr
#   pane_alive               0 while the binary runs   restored         alternate screen is off
#   dump_stacks FILE [LOG]   for a hang: the screen, LOG's tail, the threads' states and every
#                            thread's stack of the live binary (gdb -p) into FILE
#   resize W H               resizes the current window
#   ok MSG, bad MSG          count a passed / failed check   check MSG CMD...   runs CMD, ok or bad
#   all CMD1 CMD2 ...        each word a command (no arguments); 0 when all succeed in order
#   finish                   prints "NAME: N passed, M failed"; non-zero on any failure (or none run)
# CSSDBG_E2E_VERBOSE=1 lists every wait and its time under each check.
# Variables: BIN (absolute), E2E_TMP (a private directory, removed on exit), W, H, TIMEOUT
# (CSSDBG_E2E_TIMEOUT, default 90 s), E2E_POLL (poll interval, default 0.05 s).
# Do not set an EXIT trap of your own: the harness's kills the server and removes E2E_TMP.

# The caller's positional parameters, as seen when this file is sourced without arguments.
_E2E_SCRIPT_ARG1=${1:-}

W=${W:-160}
H=${H:-48}
TIMEOUT=${CSSDBG_E2E_TIMEOUT:-${TIMEOUT:-90}}
E2E_AFTER_TIMEOUT=${E2E_AFTER_TIMEOUT:-10}
E2E_POLL=${E2E_POLL:-0.05}
E2E_ENV=()
E2E_TERM=${E2E_TERM:-}

_e2e_pass=0
_e2e_fail=0
_e2e_case=0
_e2e_target=""
# State that must survive command substitutions ($(settled_screen) runs in a subshell) lives in
# files under E2E_TMP: the last screen read, the waits since the last check, two flags.

_e2e_now() { echo "${EPOCHREALTIME/[.,]/}"; }                    # microseconds
_e2e_secs() { printf '%d.%01d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

e2e_init() { # e2e_init NAME [BINARY]
    E2E_NAME=$1
    _e2e_last_check=$(_e2e_now)
    local bin=${CSSDBG:-${2:-${_E2E_SCRIPT_ARG1:-.build/debug/cssdbg}}}
    command -v tmux >/dev/null || { echo "$E2E_NAME: tmux is not installed (scripts/deps.sh installs it)"; exit 77; }
    case $bin in
        */*) ;;
        *) bin=$(command -v "$bin" 2>/dev/null || echo "$bin") ;;
    esac
    [ -f "$bin" ] && [ -x "$bin" ] || { echo "$E2E_NAME: binary '$bin' not found or not executable (set CSSDBG or pass it as \$1)"; exit 1; }
    BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
    unset TMUX TMUX_PANE
    E2E_TMP=$(mktemp -d -t "cssdbg-e2e-$E2E_NAME.XXXXXX")
    _E2E_SOCK="cssdbg-e2e-$E2E_NAME-$$"
    trap _e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    # The keeper keeps the server alive between cases and ends it if this script dies without
    # running its trap (kill -9): it polls our pid, then kills its own server.
    local keeper="while kill -0 $$ 2>/dev/null; do sleep 1; done; tmux -L '$_E2E_SOCK' kill-server"
    if ! T -f /dev/null new-session -d -s keeper -x 20 -y 5 "$keeper"; then
        echo "$E2E_NAME: could not start a tmux server (socket $_E2E_SOCK)"; exit 1
    fi
    _E2E_SOCK_PATH=$(T display-message -p -t keeper '#{socket_path}')
    _E2E_SERVER_PID=$(T display-message -p -t keeper '#{pid}')
    T set-option -w -t keeper remain-on-exit off >/dev/null
    T set-option -g default-shell /bin/sh >/dev/null
    T set-option -g exit-empty off >/dev/null 2>&1
    T set-option -g history-limit 0 >/dev/null
    T set-option -wg remain-on-exit on >/dev/null
}

T() { tmux -L "$_E2E_SOCK" "$@"; }                                # our server only

_e2e_cleanup() {
    T kill-server 2>/dev/null
    [ -n "${_E2E_SOCK_PATH:-}" ] && rm -f "$_E2E_SOCK_PATH"           # a killed server leaves it
    [ -n "${E2E_TMP:-}" ] && rm -rf "$E2E_TMP"
}

_e2e_server_up() { # 0 while the server answers; remembers when it is gone for good
    [ -e "$E2E_TMP/server-gone" ] && return 1
    if T has-session -t keeper 2>/dev/null; then return 0; fi
    : >"$E2E_TMP/server-gone"
    echo "$E2E_NAME: the tmux server is gone; every later wait fails at once" >&2
    return 1
}

_e2e_note() { printf '%s\n' "$*" >>"$E2E_TMP/waits"; }           # a wait's outcome, for `bad`
_e2e_keep() { printf '%s\n' "$1" >"$E2E_TMP/last-screen"; }        # the screen a read saw

_e2e_quote() { # words quoted for /bin/sh -c
    local a q="'" out=""
    for a in "$@"; do out+=" '${a//$q/$q\\$q$q}'"; done
    echo "${out# }"
}

start() { # start ARGS...: a fresh session running the binary; the previous case's session goes
    _e2e_case=$((_e2e_case + 1))
    rm -f "$E2E_TMP/timed-out" "$E2E_TMP/last-screen"     # waits stay listed until the next check
    local prev=$_e2e_target
    _e2e_target="case$_e2e_case"
    _E2E_ERR="$E2E_TMP/$_e2e_target.stderr"
    _e2e_server_up || return 1
    [ -n "$prev" ] && T kill-session -t "$prev" 2>/dev/null
    local envs=(-u LC_ALL -u NO_COLOR -u CSSDBG_COLOR -u CSSDBG_ASCII "LANG=${E2E_LANG:-C.UTF-8}")
    [ -n "$E2E_TERM" ] && envs+=("TERM=$E2E_TERM")
    envs+=(${E2E_ENV[@]+"${E2E_ENV[@]}"})
    local line
    line="exec env $(_e2e_quote "${envs[@]}") $(_e2e_quote "$BIN" "$@") 2>$(_e2e_quote "$_E2E_ERR")"
    if ! T new-session -d -s "$_e2e_target" -x "$W" -y "$H" "$line"; then
        echo "$E2E_NAME: could not start a session for: $*"
        return 1
    fi
}

_e2e_capture() { T capture-pane -p -t "$_e2e_target" 2>/dev/null; }

screen() { # one capture of the current pane
    local s
    s=$(_e2e_capture)
    _e2e_keep "$s"
    printf '%s\n' "$s"
}

# tmux marks a pane dead when its pty closes and learns the exit status when it reaps the child
# (SIGCHLD). A pane counts as dead here only once its status or signal is known. tmux built with
# libutempter can miss that SIGCHLD for good: closing the dead pane's pty runs utempter, which
# swaps in its own SIGCHLD handler for a moment (tmux issue #311); the child stays a zombie and
# the status never comes. A SIGCHLD of our own makes tmux reap it (harmless otherwise).
_e2e_dead_info() {
    local info
    info=$(T display-message -p -t "$_e2e_target" '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}' 2>/dev/null) || return 1
    [ "$info" = "1::" ] && kill -CHLD "$_E2E_SERVER_PID" 2>/dev/null
    echo "$info"
}
pane_dead() { case $(_e2e_dead_info) in 1:?*:*|1:*:?*) return 0 ;; *) return 1 ;; esac; }
pane_alive() { [ "$(T display-message -p -t "$_e2e_target" '#{pane_dead}' 2>/dev/null)" = 0 ]; }
pane_pid() { T display-message -p -t "$_e2e_target" '#{pane_pid}' 2>/dev/null; }
exit_status() { # the dead pane's exit status (128+N for signal N); waits up to 5 s for tmux to know it
    local i info
    for i in $(seq 1 100); do
        info=$(_e2e_dead_info) || return 1
        case $info in
            1:?*:*) info=${info#1:}; echo "${info%%:*}"; return 0 ;;
            1::?*) echo $((128 + ${info##*:})); return 0 ;;
        esac
        sleep 0.05
    done
    return 1
}
restored() { [ "$(T display-message -p -t "$_e2e_target" '#{alternate_on}' 2>/dev/null)" = 0 ]; }
keys() { T send-keys -t "$_e2e_target" "$@"; }
dump_stacks() { # dump_stacks FILE [EVENT_LOG]
    local pid t; pid=$(pane_pid)
    {
        echo "----- screen -----"; _e2e_capture
        [ -n "${2:-}" ] && { echo "----- $2 (last 80 lines) -----"; tail -80 "$2"; }
        echo "----- threads of pid $pid: name, state, utime, stime -----"
        for t in /proc/"$pid"/task/*; do echo "$(basename "$t") $(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f3,14,15 "$t/stat" 2>/dev/null)"; done
        echo "----- stacks -----"
        if command -v gdb >/dev/null; then timeout 120 gdb -p "$pid" -batch -ex "set pagination off" -ex "thread apply all bt 40" 2>&1
        else echo "(no gdb: apt-get install gdb)"; fi
    } >"$1" 2>&1
}
type_text() { T send-keys -t "$_e2e_target" -l -- "$1"; }
cmd() { type_text ":$1" && keys Enter; }
stderr_text() { cat "$_E2E_ERR" 2>/dev/null; }
resize() { T resize-window -t "$_e2e_target" -x "$1" -y "$2" 2>/dev/null; }

# _e2e_poll DESCRIPTION COND...: polls COND until it succeeds (0), the time-out passes, the pane
# dies (COND gets one last try on the final screen) or the server is gone (1). Records how long
# it took and why it ended, for `bad`.
_e2e_poll() {
    local what=$1; shift
    local t0 limit=$TIMEOUT why=""
    [ -e "$E2E_TMP/timed-out" ] && [ "$E2E_AFTER_TIMEOUT" -lt "$limit" ] && limit=$E2E_AFTER_TIMEOUT
    t0=$(_e2e_now)
    local deadline=$((t0 + limit * 1000000))
    while :; do
        if ! _e2e_server_up; then why="the tmux server is gone"; break; fi
        local dead=0
        pane_dead && dead=1
        if "$@" >/dev/null 2>&1; then
            _e2e_note "$what: ok after $(_e2e_secs $(($(_e2e_now) - t0))) s"
            return 0
        fi
        if [ $dead = 1 ]; then why="the pane died (exit status $(exit_status))"; break; fi
        if [ "$(_e2e_now)" -ge "$deadline" ]; then
            why="timed out"; : >"$E2E_TMP/timed-out"; break
        fi
        sleep "$E2E_POLL"
    done
    _e2e_note "$what: FAILED after $(_e2e_secs $(($(_e2e_now) - t0))) s of $limit s: $why"
    return 1
}

_e2e_has() { local s; s=$(_e2e_capture); _e2e_keep "$s"; grep -qF -- "$1" <<<"$s"; }
_e2e_has_re() { local s; s=$(_e2e_capture); _e2e_keep "$s"; grep -qE -- "$1" <<<"$s"; }
_e2e_lacks() { local s; s=$(_e2e_capture); _e2e_keep "$s"; ! grep -qF -- "$1" <<<"$s"; }

shows() { _e2e_has "$1"; }
shows_re() { _e2e_has_re "$1"; }

wait_for() { _e2e_poll "wait_for '$1'" _e2e_has "$1"; }
wait_re() { _e2e_poll "wait_re '$1'" _e2e_has_re "$1"; }
wait_gone() { _e2e_poll "wait_gone '$1'" _e2e_lacks "$1"; }
wait_dead() { _e2e_poll "wait_dead" pane_dead; }
wait_until() { _e2e_poll "wait_until $*" "$@"; }

settled_screen() { # a capture identical to one taken ~100 ms before it; 1 if it never settles
    local t0 a b deadline
    t0=$(_e2e_now); deadline=$((t0 + TIMEOUT * 1000000))
    _e2e_server_up || { screen; return 1; }
    a=$(_e2e_capture)
    while :; do
        sleep 0.1
        b=$(_e2e_capture)
        if [ "$a" = "$b" ]; then _e2e_keep "$b"; printf '%s\n' "$b"; return 0; fi
        if [ "$(_e2e_now)" -ge "$deadline" ] || ! _e2e_server_up; then
            _e2e_note "settled_screen: the screen still changed after $(_e2e_secs $(($(_e2e_now) - t0))) s"
            _e2e_keep "$b"; printf '%s\n' "$b"; return 1
        fi
        a=$b
    done
}

_e2e_since_check() { # sets _e2e_took: seconds since the previous check (or e2e_init), for the log
    local now; now=$(_e2e_now)
    _e2e_took=$(_e2e_secs $((now - ${_e2e_last_check:-$now})))
    _e2e_last_check=$now
}

ok() {
    _e2e_pass=$((_e2e_pass + 1)); _e2e_since_check
    echo "ok   $*  [$_e2e_took s]"
    # A wait that failed on the way to a passing check cost time: say which.
    # (CSSDBG_E2E_VERBOSE=1: every wait, with its time.)
    if [ "${CSSDBG_E2E_VERBOSE:-0}" = 1 ]; then [ -s "$E2E_TMP/waits" ] && sed 's/^/     wait: /' "$E2E_TMP/waits"
    else [ -s "$E2E_TMP/waits" ] && grep -E ": FAILED after|settled_screen:" "$E2E_TMP/waits" | sed 's/^/     note: /'; fi
    rm -f "$E2E_TMP/waits"
    return 0
}

bad() {
    _e2e_fail=$((_e2e_fail + 1))
    _e2e_since_check
    echo "FAIL $*  [$_e2e_took s]"
    [ -z "$_e2e_target" ] && return 0                                 # no tmux case (cli.sh)
    if [ -s "$E2E_TMP/waits" ]; then sed 's/^/     /' "$E2E_TMP/waits"; else echo "     (no wait since the last check)"; fi
    rm -f "$E2E_TMP/waits"
    echo "----- screen ($E2E_NAME, $_e2e_target, as last read) -----"
    [ -e "$E2E_TMP/last-screen" ] && cat -s "$E2E_TMP/last-screen"       # blank runs squeezed
    echo "----- end of screen -----"
    if [ -s "${_E2E_ERR:-/nonexistent}" ]; then
        echo "----- stderr of the binary (last 20 lines) -----"
        tail -20 "$_E2E_ERR"
        echo "----- end of stderr -----"
    fi
    return 0
}

check() { # check MSG CMD...: ok MSG when CMD succeeds, else bad MSG
    local msg=$1; shift
    if "$@"; then ok "$msg"; else bad "$msg"; fi
}

all() { # all CMD1 CMD2 ...: runs each (no arguments) until one fails
    local c
    for c in "$@"; do "$c" || return 1; done
}

finish() {
    echo "$E2E_NAME: $_e2e_pass passed, $_e2e_fail failed"
    [ "$_e2e_fail" -eq 0 ] && [ "$_e2e_pass" -gt 0 ]
}
