#!/usr/bin/env bash
# End-to-end test of the `:` line's readline editing and Tab completion in the real binary.
#
#   CSSDBG=.build/debug/cssdbg Tests/e2e/readline.sh
set -uo pipefail
CSSDBG=${CSSDBG:-${CSSDBG_BIN:-}}
. "$(dirname "$0")/lib.sh"
e2e_init readline
E2E_TERM=xterm-256color

start samples/digits-mlp --no-session
check "1: started" wait_re "g 0/[0-9]+"

echo "2. Home, Right and typing insert at the cursor"
keys :; type_text "stp 3"; keys Home Right Right; type_text "e"
check "2: the line reads step 3" wait_for ":step 3"
keys Enter
check "2: :step 3 ran" wait_re "g 3/[0-9]+"

echo "3. Ctrl-U discards to the start, Ctrl-W a word, Left and Backspace"
keys :; type_text "nonsense"; keys C-u; type_text "step 9 5"; keys C-w; keys Left BSpace; type_text "6 "
check "3: the line reads step 6" wait_for ":step 6"
keys Enter
check "3: :step 6 ran" wait_re "g 6/[0-9]+"

echo "4. Ctrl-A / Ctrl-E and Ctrl-K"
keys :; type_text "step 2xyz"; keys C-a; type_text " "; keys C-e Left Left Left C-k
check "4: the line reads ' step 2'" wait_for ": step 2"
keys Enter
check "4: :step 2 ran" wait_re "g 2/[0-9]+"

echo "5. Tab completes the command and a layer name"
keys :; type_text "ste"; keys Tab
check "5: Tab completed :step" wait_for ":step"
type_text "5"; keys Enter
check "5: :step 5 ran" wait_re "g 5/[0-9]+"
keys :; type_text "hotspots ove"; keys Tab
check "5: Tab completed the argument" wait_for ":hotspots overflow"
keys Escape
keys :; type_text "break cou"; keys Tab; type_text "relu"; keys Tab; type_text "2"; keys Tab
check "5: Tab completed a :break condition and its layer" wait_for ":break coupling relu2"
keys Escape
keys :; type_text "load samples/digits-m"; keys Tab
check "5: Tab completed a file path" wait_for ":load samples/digits-mlp/"
type_text "model.o"; keys Tab
check "5: Tab completed the file in it" wait_for ":load samples/digits-mlp/model.onnx"
keys Escape

echo "6. history recalls the last line with Up"
keys :; keys Up
check "6: Up recalls :step 5" wait_for ":step 5"
keys Escape
keys q
check "7: q quits" wait_dead
finish
