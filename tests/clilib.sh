# Shared helpers for the CLI tests (tests/cli_*.sh source this file).
# Each check adds to $passed or $failed; cli_done prints "N passed, N failed"
# and exits non-zero on any failure. Sets $napkit and a fresh $tmp.
napkit=${NAPKIT:-build/napkit}
tmp=$(mktemp -d /tmp/napkit-cli.XXXXXX)
passed=0; failed=0

# check NAME CONDITION-EXIT-CODE: records a pass when the previous command
# (or the given status) succeeded: `cmp -s a b; check same-output $?`.
check() {
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1" >&2; fi
}

# expect NAME WANT_EXIT PATTERN -- CMD...: runs CMD, checks its exit code and
# that PATTERN (grep -E) occurs in its stdout+stderr.
expect() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<< "$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $rc (want $want); output: $(printf '%s' "$out" | head -c 300)" >&2
  fi
}

# shape NAME FILE SHAPE: the .npy header holds 'shape': SHAPE.
shape() {
  head -c 128 "$2" 2>/dev/null | grep -qF "'shape': $3"
  check "$1: $2 should have shape $3" $?
}

# cli_done: no temporary files left behind, then the summary line.
cli_done() {
  ! ls -R "$tmp" | grep -q '\.tmp\.'
  check "temporary files left behind in $tmp" $?
  rm -rf "$tmp"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
