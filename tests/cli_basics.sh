#!/usr/bin/env bash
# The napkit command: exit codes (0 ok, 1 user error, 2 bad usage), help,
# and `napkit features` end to end. Prints "N passed, N failed" last.
set -u
napkit=${NAPKIT:-build/napkit}
tmp=$(mktemp -d /tmp/napkit-cli.XXXXXX)
passed=0; failed=0

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

sig=tests/fixtures/frontend/signal.wav
expect version 0 '^napkit [0-9]+\.[0-9]+' -- $napkit --version
expect help 0 'features' -- $napkit --help
expect no-command 2 'usage' -- $napkit
expect unknown-command 2 "unknown command 'frobnicate'" -- $napkit frobnicate
expect features-help 0 'usage: napkit features' -- $napkit features --help
expect features-no-output 2 'needs -o' -- $napkit features $sig
expect features-bad-kind 2 'power.logmel.mfcc' -- $napkit features $sig -o $tmp/x.npy --kind wavelet
expect features-bad-number 2 "--n-mels wants an integer" -- $napkit features $sig -o $tmp/x.npy --n-mels 4x
expect features-missing-file 1 'nope\.wav' -- $napkit features $tmp/nope.wav -o $tmp/x.npy
printf 'not audio' > $tmp/junk.flac
expect features-junk-file 1 'junk\.flac' -- $napkit features $tmp/junk.flac -o $tmp/x.npy
expect features-bad-window 1 'window' -- $napkit features $sig -o $tmp/x.npy --win 800
expect features-logmel 0 '' -- $napkit features $sig -o $tmp/logmel.npy
# 5 s at hop 160 → 501 frames × 40 bands of float32 after a 128-byte header.
size=$(stat -c %s $tmp/logmel.npy 2>/dev/null || echo 0)
if [ "$size" -eq $((128 + 40 * 501 * 4)) ] && head -c 128 $tmp/logmel.npy | grep -q "'shape': (40, 501)"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL features-shape: size $size" >&2
fi
expect features-mfcc 0 '' -- $napkit features $sig -o $tmp/mfcc.npy --kind mfcc --n-mfcc 13 --normalize band
if head -c 128 $tmp/mfcc.npy | grep -q "'shape': (13, 501)"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL features-mfcc-shape" >&2; fi
ls $tmp | grep -q '\.tmp\.' && { failed=$((failed + 1)); echo "FAIL temporary files left behind" >&2; } || passed=$((passed + 1))

rm -rf "$tmp"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
