#!/usr/bin/env bash
# Runs the unit tests under AddressSanitizer and ThreadSanitizer, each in its own scratch
# directory (.build-asan, .build-tsan) so the normal .build stays untouched.
#
#   scripts/sanitizers.sh [--address] [--thread] [--full] [--log-dir DIR]
#
#   --address / --thread   run only that sanitizer (default: both)
#   --full                 also run the slow end-to-end accuracy tests (SLOW below), which
#                          exercise the same code as the rest for minutes more
#   --log-dir DIR          where the full logs go (default: the scratch directories)
#
# Prints the build and test time of each run and every sanitizer report's summary line.
# Exit status 1 if a build fails, a test fails or a sanitizer reports anything.
set -uo pipefail
cd "$(dirname "$0")/.."

# Tests whose cost is the simulation of whole sample data sets (tens of seconds unsanitized,
# several minutes under TSan) without covering code the other tests miss.
SLOW='ReferenceAgreementTests[./](testSNNAccuracyCloseToANNAtDefaults|testSamplesWithoutSilentPeriodOrNegativeSpikesShowCoupling|test(DigitsMLP|DigitsCNN|DigitsResNet)AgreesWithReferenceOnEveryField)|LargeTReferenceTests[./]testLargeTAgreesWithReferenceUpToTheLimit'

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
  [ "$full" -eq 0 ] && skip=(--skip "$SLOW")

  echo "== $san: building tests (scratch $scratch)"
  t0=$(date +%s)
  if ! swift build --build-tests --sanitize="$san" --scratch-path "$scratch" >"$dir/$san-build.log" 2>&1; then
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
