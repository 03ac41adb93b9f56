#!/usr/bin/env bash
# Runs the whole test suite (unit, golden-file, fuzz and end-to-end CLI tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/java-env.sh
./mvnw -B -q verify 2> >(grep -v -E '^WARNING: .*(Unsafe|sun\.misc|terminally deprecated|objectFieldOffset|Please consider reporting)' >&2)
# one summary line for the CI log (Maven runs quietly)
awk '/^Tests run:/ {gsub(",", ""); t+=$3; f+=$5; e+=$7; s+=$9} END {printf "tests: %d run, %d failures, %d errors, %d skipped\n", t, f, e, s}' target/surefire-reports/*.txt
