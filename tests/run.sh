#!/usr/bin/env bash
# Runs every test program given on the command line and sums their
# "N passed, N failed" lines. Exits non-zero if any test failed or crashed.
set -u
passed=0; failed=0
logs=$(mktemp -d /tmp/napkit-tests.XXXXXX)
for t in "$@"; do
  name=$(basename "$t")
  out=$("$t" 2>"$logs/$name.stderr"); rc=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    p=${BASH_REMATCH[1]}; f=${BASH_REMATCH[2]}
  else
    p=0; f=1  # crashed or printed no summary
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ]; then
    printf '%-28s FAILED (%s passed, %s failed, exit %s)\n' "$name" "$p" "$f" "$rc"
    sed "s/^/    /" "$logs/$name.stderr" | tail -n 30
  else
    printf '%-28s ok (%s)\n' "$name" "$p"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
