#!/usr/bin/env bash
# napkit attribute with integrated gradients: the completeness line, and the
# warning when too few steps leave the map short of y(X) − y(baseline)
# (on this model the CTC target needs about 400 steps).
# Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

tiny=tests/fixtures/attrib/tiny.safetensors
x=tests/fixtures/attrib/x.npy
ig() { $napkit --quiet attribute --model $tiny --features $x --method ig --target ctc --text ab --no-figure "$@"; }
expect ig-few-steps 0 'warning: the map misses [0-9]+% of y\(X\) - y\(baseline\) at 50 steps' -- ig --steps 50 -o $tmp/ig50
out=$(ig --steps 400 -o $tmp/ig400 2>&1)
check "ig-enough-steps: completeness reported" $(grep -qE 'completeness error' <<< "$out"; echo $?)
check "ig-enough-steps: no warning" $(grep -q 'warning' <<< "$out" && echo 1 || echo 0)
test -s $tmp/ig400/attribution.npy
check "ig-output attribution.npy" $?
cli_done
