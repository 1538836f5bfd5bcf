#!/usr/bin/env bash
# Issue 14 bug 2 on the real binary under tmux: the "Saved tuning session" dialog never loses
# work by a keystroke.
#   A. two changes, q; the next start offers them and says what differs from the command line
#   B. Esc: nothing is written, the session file is unchanged, :restore brings the changes back
#   C. Esc, then a change: the offered session is kept in the backup file
#   D. d discards explicitly: backup written, :restore still brings the changes back
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init restore_dialog

model="$E2E_TMP/mlp"
cp -r samples/digits-mlp "$model"
rm -f "$model"/.cssdbg-session*.json
session="$model/.cssdbg-session.json"
backup="$model/.cssdbg-session.backup.json"
sum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

# A. Two changes, then quit; the session is on disk.
start "$model" --limit 64
check "A: the debugger starts" wait_for "hotspots"
cmd "scale 0 1.3"
check "A: first change" wait_for "tuning: 1 change"
cmd "scale 1 0.8"
check "A: second change" wait_for "tuning: 2 changes"
keys q
check "A: q quits" wait_dead
[ -s "$session" ] && ok "A: the session file is written" || bad "A: no session file at $session"
saved=$(sum "$session")

# B. Esc keeps everything; :restore works afterwards.
start "$model" --limit 64 -T 12
check "B: the saved session is offered" wait_for "Saved tuning session"
check "B: the dialog says what differs from the command line" wait_for "T 10 (command line 12)"
check "B: the dialog names the explicit discard key" wait_for "d discard"
keys Escape
check "B: Esc closes the dialog" wait_gone "Saved tuning session"
check "B: Esc says how to restore" wait_for ":restore brings the saved session back"
[ "$(sum "$session")" = "$saved" ] && ok "B: Esc wrote nothing" || bad "B: the session file changed on Esc"
[ ! -e "$backup" ] && ok "B: no backup needed yet" || bad "B: backup written on Esc"
cmd "restore"
check "B: :restore after Esc restores the session" wait_for "restored the session"
check "B: with its two changes" wait_for "tuning: 2 changes"
check "B: and its T" wait_for "T 10 β"
keys q
check "B: q quits" wait_dead

# C. Esc, then a change: the offered session goes to the backup before it is overwritten.
saved=$(sum "$session")
start "$model" --limit 64
check "C: offered again" wait_for "Saved tuning session"
keys Escape
check "C: dialog closed" wait_gone "Saved tuning session"
cmd "scale 0 1.1"
check "C: the change names the backup" wait_for "backup.json"
[ "$(sum "$backup")" = "$saved" ] && ok "C: the backup holds the offered session" || bad "C: backup differs"
cmd "restore"
check "C: :restore says where the replaced session is" wait_for "replaced it"
keys q
check "C: q quits" wait_dead

# D. d discards, keeps a backup, and :restore still brings it back.
cp "$backup" "$session"
rm -f "$backup"
start "$model" --limit 64
check "D: offered" wait_for "Saved tuning session"
keys d
check "D: d starts a new session" wait_for "started a new tuning session"
[ "$(sum "$backup")" = "$saved" ] && ok "D: the discarded session is in the backup" || bad "D: no backup after d"
cmd "restore"
check "D: :restore brings the discarded session back" wait_for "restored the session"
check "D: with its two changes" wait_for "tuning: 2 changes"
keys q
check "D: q quits and restores the terminal" all wait_dead restored

finish
