#!/usr/bin/env bash
# Runs the unit tests under AddressSanitizer and ThreadSanitizer, each in its own scratch
# directory (.build-asan, .build-tsan) so the normal .build stays untouched.
#
#   scripts/sanitizers.sh [--address] [--thread] [--full] [--log-dir DIR]
#
#   --address / --thread   run only that sanitizer (default: both)
#   --full                 run the whole suite under each sanitizer (default: the tests that
#                          reach unsafe pointers under ASan, the ones that start threads under
#                          TSan; ADDRESS_SKIP and THREAD_SKIP below say which and why)
#   --log-dir DIR          where the full logs go (default: the scratch directories)
#
# Prints the build and test time of each run and every sanitizer report's summary line.
# Exit status 1 if a build fails, a test fails or a sanitizer reports anything.
set -uo pipefail
cd "$(dirname "$0")/.."

# What each sanitizer runs by default, and why (CI time: the whole suite twice took 13 of CI's
# 26 minutes). Unsafe pointers live in the kernels, the simulator, the NumPy/ONNX readers and the
# atomic writer; CSSCoreTests and CSSImportTests cover them (the fuzzers also run the importers
# under ASan). The view, the app layer and the reference-agreement tests are safe Swift over that
# same core code (bounds- and overflow-checked), so AddressSanitizer skips them. Threads are
# started by the kernels' workers, the backend's jobs and the host bridge; ThreadSanitizer runs
# every test that starts them and skips the importers (single-threaded) and the reference
# agreement on whole sample data sets (the same kernels and jobs, minutes more). --full runs
# everything under both. Under ASan, OnDemandDataTests' whole-session byte bound (240 samples
# through reports and traces, 40 s there) is skipped too: its pointer code (pread into batches) is
# what the bit-identity and truncation tests of the same class run.
ADDRESS_SKIP='^(IntegrationTests|AppTests|CSSViewTests)[./]|^CSSImportTests[.]OnDemandDataTests/testHeldBytes'
THREAD_SKIP='^(IntegrationTests|CSSImportTests)[./]'

sans=()
full=0
log_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --address) sans+=(address); shift ;;
    --thread) sans+=(thread); shift ;;
    --full) full=1; shift ;;
    --log-dir) log_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sanitizers.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#sans[@]} -eq 0 ] && sans=(address thread)

# LeakSanitizer is off: Swift keeps tagged pointers (spare bits) that LSan cannot follow, so
# every run "leaks" a few hundred KB of XCTest and Array buffers it cannot attribute.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}"
# TSan: keep going after the first report so one run lists every race; the exit status is
# still non-zero (66) when anything was reported.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1}"
export SWIFT_BACKTRACE=enable=no

status=0
summary=()
for san in "${sans[@]}"; do
  case "$san" in address) scratch=.build-asan ;; thread) scratch=.build-tsan ;; esac
  dir="${log_dir:-$scratch}"
  mkdir -p "$dir"
  log="$dir/$san-tests.log"
  skip=()
  if [ "$full" -eq 0 ]; then
    case "$san" in address) skip=(--skip "$ADDRESS_SKIP") ;; thread) skip=(--skip "$THREAD_SKIP") ;; esac
  fi

  echo "== $san: building tests (scratch $scratch)"
  t0=$(date +%s)
  # Only the test product: the cssdbg executable, its argument parser and the ncurses adapter are
  # not linked into any test, so building them under a sanitizer was a minute per run for nothing.
  if ! swift build --product cssdbgPackageTests --sanitize="$san" --scratch-path "$scratch" >"$dir/$san-build.log" 2>&1; then
    tail -30 "$dir/$san-build.log"
    summary+=("$san: BUILD FAILED (see $dir/$san-build.log)")
    status=1
    continue
  fi
  t1=$(date +%s)
  echo "== $san: running tests (log: $log)"
  swift test --skip-build --sanitize="$san" --scratch-path "$scratch" ${skip[@]+"${skip[@]}"} >"$log" 2>&1
  rc=$?
  t2=$(date +%s)

  reports=$(grep -acE '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer))' "$log")
  executed=$(grep -aE 'Executed [0-9]+ tests?' "$log" | tail -1 | sed -E 's/^[[:space:]]*//')
  grep -aE '^SUMMARY: (AddressSanitizer|ThreadSanitizer|LeakSanitizer)' "$log" | sort | uniq -c | sed 's/^/   /'
  grep -aE "error: .*(failed|crashed)|Fatal error" "$log" | head -10 | sed 's/^/   /'
  line="$san: build $((t1 - t0))s, tests $((t2 - t1))s; ${executed:-no XCTest summary}; $reports sanitizer report(s)"
  if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ]; then
    status=1
    summary+=("$line; FAILED (exit $rc, log $log)")
  else
    summary+=("$line; ok")
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
