#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Fuzz/ (a separate SwiftPM package that depends on this one by
# path) with -sanitize=fuzzer,address and runs them on corpora seeded from samples/ and the ONNX
# fixtures. A finding is anything but success or a one-line ImportError: a trap, a sanitizer
# report, a single allocation over 2 GiB, RSS over 2 GiB, or one input running over 10 s.
#
#   scripts/fuzz.sh [--seconds N] [--target onnx|graph|npy|theta|all] [--keep-going] [--repro]
#                   [--save-corpus] [-- extra libFuzzer flags]
#
#   --seconds N    time per target (default 60)
#   --target T     one harness or all of them (default all). onnx mutates real model bytes;
#                  graph builds ONNX graphs from the input (operators, attributes, extreme dims)
#   --keep-going   fork mode: record every crash/OOM/timeout and go on until the time is up
#   --repro        only run the harnesses over the saved inputs in Fuzz/findings/<target>/
#                  (exit status 0 once all of them are handled)
#   --save-corpus  only merge the local corpus (.build-fuzz/corpus/<target>/) with the committed
#                  one into a minimal set (libFuzzer -merge=1) and rewrite Fuzz/corpus/<target>.tar.gz
#                  (every run seeds from it, so short CI runs start where long campaigns ended)
#
# Environment: CSSDBG_FUZZ_IGNORE=oneline,nonfinite stops reporting two known finding classes
# (a multi-line ImportError; NaN/Inf weights in an imported graph). New crash inputs go to
# .build-fuzz/artifacts/<target>/, the growing corpus stays in .build-fuzz/corpus/<target>/
# (both untracked). Prints the executions per target; exit status 1 if anything was found.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

seconds=60
target=all
keep_going=0
repro=0
save_corpus=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --target) target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --keep-going) keep_going=1; shift ;;
    --repro) repro=1; shift ;;
    --save-corpus) save_corpus=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$target" in
  all) targets=(onnx graph npy theta) ;;
  onnx|graph|npy|theta) targets=("$target") ;;
  *) echo "fuzz.sh: --target must be onnx, graph, npy, theta or all" >&2; exit 2 ;;
esac

SCRATCH="$ROOT/.build-fuzz"
echo "== building the fuzz harnesses (debug, -sanitize=fuzzer,address)"
build_log="$(mktemp)"
if ! swift build --package-path Fuzz -c debug --scratch-path "$SCRATCH" \
      -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$build_log" 2>&1; then
  # ld.gold warns once per ASan helper symbol; drop that noise.
  grep -v "Cannot export local symbol" "$build_log" | tail -30
  if grep -q "CSSImport" "$build_log" && grep -qi "product" "$build_log"; then
    echo "fuzz.sh: the root Package.swift must export the library product CSSImport" >&2
  fi
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"
BIN="$(swift build --package-path Fuzz -c debug --scratch-path "$SCRATCH" --show-bin-path)"

binary() {
  case "$1" in onnx) echo "$BIN/FuzzONNX" ;; graph) echo "$BIN/FuzzONNXGraph" ;; npy) echo "$BIN/FuzzNPY" ;; theta) echo "$BIN/FuzzTheta" ;; esac
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cssdbg-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The ONNX harness names its input $WORK/model.onnx; external-data tensors resolve next to it.
cp samples/digits-cnn/model.onnx.data "$WORK/" 2>/dev/null || true
export CSSDBG_FUZZ_WORK="$WORK"
# libFuzzer and ASan print the stack; Swift's own backtracer would only add pages of registers.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0}"

# Seeds: copies of the samples and fixtures in a throwaway directory (never committed).
seed() {
  local t="$1" dir="$WORK/seeds-$1"
  mkdir -p "$dir"
  case "$t" in
    onnx)
      for f in samples/*/model.onnx; do cp "$f" "$dir/sample-$(basename "$(dirname "$f")").onnx"; done
      cp Tests/Fixtures/onnx/*.onnx "$dir/" ;;
    graph)
      # Any bytes are a valid graph program; the fixtures' first bytes give it varied starts.
      for f in Tests/Fixtures/onnx/*.onnx; do head -c 256 "$f" >"$dir/$(basename "$f" .onnx).bin"; done ;;
    npy)
      # Small .npy files as they are; big ones re-encoded to their first few hundred bytes would
      # only be truncation cases, which the harness finds itself.
      for f in Tests/Fixtures/onnx/*.npy samples/*/*.npy; do
        [ "$(stat -c %s "$f")" -le 16384 ] && cp "$f" "$dir/$(echo "$f" | tr / _)"
      done ;;
    theta)
      cp samples/*/theta.json "$dir/" 2>/dev/null
      printf '%s' '{"format": "cssdbg-theta/1", "model": "m", "config": {"T": 4, "beta": 2, "silent": 1, "negative": false, "percentile": 99.9}, "theta": {"input": 0.5, "hidden": 2, "/relu/Relu_output_0": 1e-3, "relu_1": 7}}' >"$dir/all-layers.json"
      printf '%s' '{"format": "cssdbg-theta/1", "theta": {"input": 1, "hidden": 1}}' >"$dir/minimal.json"
      printf '\x07%s' '{"format":"cssdbg-theta/1","theta":{"input":1,"hidden":1,"/relu/Relu_output_0":2,"relu_1":3}}' >"$dir/selector-all.json" ;;
  esac
  echo "$dir"
}

# What earlier campaigns found interesting beyond the seeds, committed as a minimal merged set.
committed() {
  local dir="$WORK/committed-$1"
  mkdir -p "$dir"
  [ -f "Fuzz/corpus/$1.tar.gz" ] && tar -xzf "Fuzz/corpus/$1.tar.gz" -C "$dir" --strip-components=1
  echo "$dir"
}

dict_flag() {
  [ -f "Fuzz/dict/$1.dict" ] && echo "-dict=Fuzz/dict/$1.dict"
}

status=0
summary=()
for t in "${targets[@]}"; do
  exe="$(binary "$t")"
  if [ "$repro" -eq 1 ]; then
    echo "== $t: saved findings"
    shopt -s nullglob
    files=(Fuzz/findings/"$t"/*)
    shopt -u nullglob
    [ ${#files[@]} -eq 0 ] && { summary+=("$t: no saved findings"); continue; }
    bad=0
    for f in "${files[@]}"; do
      if "$exe" -rss_limit_mb=2048 -timeout=10 "$f" >"$WORK/repro.log" 2>&1; then
        echo "   ok       $f"
      else
        echo "   FAILS    $f: $(grep -m1 -E 'FINDING|Fatal error|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "$WORK/repro.log")"
        bad=$((bad + 1))
      fi
    done
    summary+=("$t: $bad of ${#files[@]} saved findings still fail")
    [ "$bad" -gt 0 ] && status=1
    continue
  fi

  corpus="$SCRATCH/corpus/$t"
  artifacts="$SCRATCH/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  seeds="$(seed "$t")"
  kept="$(committed "$t")"
  if [ "$save_corpus" -eq 1 ]; then
    merged="$WORK/merged-$t/$t"
    mkdir -p "$merged"
    echo "== $t: merging $corpus and the committed corpus into a minimal set"
    # The seeds go in first, so only inputs that add coverage beyond them are kept; they are
    # taken out again before archiving (every run has them anyway).
    for f in "$seeds"/*; do cp "$f" "$merged/seed-$(basename "$f")"; done
    if ! (cd "$WORK" && "$exe" -merge=1 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
          "$merged" "$kept" "$corpus" >"$SCRATCH/merge-$t.log" 2>&1); then
      summary+=("$t: merge failed (log: $SCRATCH/merge-$t.log)"); status=1; continue
    fi
    rm -f "$merged"/seed-*
    mkdir -p Fuzz/corpus
    # Reproducible archive (sorted names, no times or owners), written atomically.
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK/merged-$t" -cf - "$t" \
      | gzip -n -9 >"Fuzz/corpus/$t.tar.gz.tmp" && mv "Fuzz/corpus/$t.tar.gz.tmp" "Fuzz/corpus/$t.tar.gz"
    summary+=("$t: $(ls "$merged" | wc -l) inputs in Fuzz/corpus/$t.tar.gz ($(stat -c %s "Fuzz/corpus/$t.tar.gz") bytes)")
    continue
  fi
  log="$SCRATCH/fuzz-$t.log"
  flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10
         -print_final_stats=1 -artifact_prefix="$artifacts/")
  d="$(dict_flag "$t")"; [ -n "$d" ] && flags+=("$d")
  if [ "$keep_going" -eq 1 ]; then
    flags+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  fi
  before="$(ls "$artifacts" | wc -l)"
  echo "== $t: fuzzing for ${seconds}s (log: $log)"
  "$exe" "${flags[@]}" ${extra[@]+"${extra[@]}"} "$corpus" "$seeds" "$kept" >"$log" 2>&1
  rc=$?
  # Executions: the final stats in normal mode, the last status line ("#N: cov: ...") in fork mode.
  execs="$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')"
  [ -z "$execs" ] && execs="$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')"
  after="$(ls "$artifacts" | wc -l)"
  new=$((after - before))
  if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
    status=1
    summary+=("$t: ${execs:-?} executions, FINDINGS: $new new input(s) in $artifacts (exit $rc)")
    grep -aE -m3 'FINDING|Fatal error|ERROR: libFuzzer|SUMMARY: AddressSanitizer' "$log" | sed 's/^/   /'
  else
    summary+=("$t: ${execs:-?} executions, no findings")
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
