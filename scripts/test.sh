#!/usr/bin/env bash
# Runs the whole test suite (unit, golden-file, fuzz and end-to-end CLI tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/java-env.sh
mvn -B -q verify 2> >(grep -v -E '^WARNING: .*(Unsafe|sun\.misc|terminally deprecated|objectFieldOffset|Please consider reporting)' >&2)
