#!/usr/bin/env bash
# θ files are never lost or silently replaced (issue 14 "Work that is kept"), in the real debugger
# under tmux:
#   - `:w` without a file writes MODEL.theta.json in the directory the debugger was started in
#   - `:w` refuses to overwrite another model's θ file (one line naming the file and the model),
#     the file stays as it was; `:w!` replaces it
#   - `:w` refuses θ of another config (after `:set silent 0`); `:w!` replaces it
#   - a bundle's own theta.json in use is shown in the status line, and `:w` leaves it alone
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init theta_files
root=$(pwd)
work="$E2E_TMP/work"
mkdir -p "$work"
# The debugger starts in $work (tmux sessions start in the client's directory).
cd "$work" || exit 1

model_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['model'])" "$1" 2>/dev/null; }
silent_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['silent'])" "$1" 2>/dev/null; }

# 1. `:w` names the file after the model.
start "$root/samples/digits-mlp" --no-session --limit 40
check "digits-mlp opens" wait_for "digits-mlp"
cmd "w"
check ":w says it wrote digits-mlp.theta.json" wait_for "wrote θ to digits-mlp.theta.json"
check "the file is in the start directory and holds digits-mlp's θ" test "$(model_of "$work/digits-mlp.theta.json")" = digits-mlp
check "no ./theta.json written" test ! -e "$work/theta.json"
keys q
check "q quits and restores the terminal" all wait_dead restored

# 2. Another model's θ file under this model's default name: refused, then :w! replaces it.
cp "$work/digits-mlp.theta.json" "$work/digits-cnn.theta.json"
cp "$work/digits-cnn.theta.json" "$E2E_TMP/before.json"
start "$root/samples/digits-cnn" --no-session --limit 40
check "digits-cnn opens" wait_for "digits-cnn"
cmd "w"
check ":w refuses another model's θ file, naming file and model" \
  wait_for "digits-cnn.theta.json: holds θ of model 'digits-mlp', not 'digits-cnn'; use :w! to replace it"
check "the refused file is unchanged" cmp -s "$work/digits-cnn.theta.json" "$E2E_TMP/before.json"
cmd "w!"
check ":w! replaces it and says what it replaced" wait_for "wrote θ to digits-cnn.theta.json (replaced: it holds θ of model 'digits-mlp'"
check "the file now holds digits-cnn's θ" test "$(model_of "$work/digits-cnn.theta.json")" = digits-cnn

# 3. Another config: refused, :w! replaces.
cmd "set silent 0"
check ":set silent 0 reconverts" wait_re "L 0 neg on"
cmd "w"
check ":w refuses θ of another config" wait_for "digits-cnn.theta.json: holds θ for L=1, not L=0; use :w! to replace it"
check "the file still holds L=1" test "$(silent_of "$work/digits-cnn.theta.json")" = 1
cmd "w!"
check ":w! writes L=0" wait_for "wrote θ to digits-cnn.theta.json (replaced: it holds θ for L=1, not L=0)"
check "the file holds L=0" test "$(silent_of "$work/digits-cnn.theta.json")" = 0
keys q
check "q quits and restores the terminal (2)" all wait_dead restored
check "exit status 0" test "$(exit_status)" = 0

# 4. A bundle's own theta.json: shown in the status line, and :w does not touch it.
mkdir -p "$E2E_TMP/mlpbundle"
cp "$root/samples/digits-mlp/model.onnx" "$root/samples/digits-mlp/data.npy" "$E2E_TMP/mlpbundle/"
cp "$work/digits-mlp.theta.json" "$E2E_TMP/mlpbundle/theta.json"
start "$E2E_TMP/mlpbundle" --no-session --limit 40
check "the status line says the bundle's theta.json is in use" wait_for "mlpbundle  θ bundle theta.json  sample"
cmd "w"
check ":w writes mlpbundle.theta.json, not the bundle's file" wait_for "wrote θ to mlpbundle.theta.json"
check "the bundle's theta.json is unchanged" cmp -s "$E2E_TMP/mlpbundle/theta.json" "$work/digits-mlp.theta.json"
keys q
check "q quits and restores the terminal (3)" all wait_dead restored

cd "$root" || exit 1
finish
