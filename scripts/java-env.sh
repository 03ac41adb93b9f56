# Sourced by ./quant4j and .ci/run: points JAVA_HOME at a JDK 25 (the Vector API and FFM need it).
_q4j_java_ok() {
  [[ -x "$1/bin/java" ]] && "$1/bin/java" -version 2>&1 | head -1 | grep -qE '"(2[5-9]|[3-9][0-9])[".]'
}
if [[ -z "${JAVA_HOME:-}" ]] || ! _q4j_java_ok "$JAVA_HOME"; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /opt/java/openjdk; do
    if _q4j_java_ok "$candidate"; then
      export JAVA_HOME="$candidate"
      break
    fi
  done
fi
if [[ -z "${JAVA_HOME:-}" ]] || ! _q4j_java_ok "$JAVA_HOME"; then
  echo "quant4j: needs JDK 25 or newer; set JAVA_HOME to one" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
