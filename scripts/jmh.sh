#!/usr/bin/env bash
# Kernel micro-benchmarks (JMH): compiles the test classes once (the benchmarks live in src/test/java, named
# *Benchmark; JMH's annotation processor generates their harness during test-compile) and runs
# org.openjdk.jmh.Main on the test classpath. Arguments go to JMH, e.g.
#   scripts/jmh.sh MatVec -p type=Q4_0,Q4_K -p shape=2048x2048
#   scripts/jmh.sh -l                       # list the benchmarks
#   scripts/jmh.sh -h                       # JMH's options
# QUANT4J_JMH_SKIP_BUILD=1 reuses the last build (target/test-classes and target/jmh-classpath.txt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/java-env.sh
cp_file=target/jmh-classpath.txt
if [[ "${QUANT4J_JMH_SKIP_BUILD:-}" != 1 || ! -s "$cp_file" ]]; then
  ./mvnw -B -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" \
    2> >(grep -v -E '^WARNING: .*(Unsafe|sun\.misc|terminally deprecated|objectFieldOffset|Please consider reporting)' >&2)
fi
# The Vector API module, without its bounds checks (as ./quant4j runs it), for the host JVM (which runs the
# benchmarks itself under -f 0) and, through -jvmArgsAppend, for every forked JVM even when -jvmArgs replaces the
# options they inherit from the host (so the forks' "VM options" line lists them twice). JMH accumulates repeated
# -jvmArgsAppend options and then takes each as one JVM argument (unsplit), so give one flag per option:
#   scripts/jmh.sh MatVec -jvmArgsAppend -Dquant4j.q8act=false -jvmArgsAppend -Xmx1g
# Command-line -jvmArgsAppend replaces a benchmark's @Fork(jvmArgsAppend = ...), so no benchmark uses that.
vector_opts=(--add-modules=jdk.incubator.vector -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0)
append=()
for opt in "${vector_opts[@]}"; do
  append+=(-jvmArgsAppend "$opt")
done
exec java "${vector_opts[@]}" -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  org.openjdk.jmh.Main "${append[@]}" "$@"
