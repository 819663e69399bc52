#!/usr/bin/env bash
# napkit attribute with integrated gradients: the steps double until the map
# adds up to y(X) − y(baseline) (on this model the CTC target needs about 400
# steps), the completeness line, and the warning when a fixed count or the cap
# leaves the map short.
# Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

tiny=tests/fixtures/attrib/tiny.safetensors
x=tests/fixtures/attrib/x.npy
ig() { $napkit --quiet attribute --model $tiny --features $x --method ig --target ctc --text ab --no-figure "$@"; }
expect ig-fixed-steps 0 'warning: the map misses [0-9]+% of y\(X\) - y\(baseline\) at 50 steps; raise --steps' -- \
  ig --steps 50 --ig-tolerance 0 -o $tmp/ig50
expect ig-capped 0 'warning: the map misses [0-9]+% of y\(X\) - y\(baseline\) at 100 steps; raise --max-steps' -- \
  ig --steps 50 --max-steps 199 -o $tmp/ig100
out=$(ig -o $tmp/ig 2>&1)
check "ig-adaptive: completeness reported" $(grep -qE 'completeness error' <<< "$out"; echo $?)
check "ig-adaptive: no warning" $(grep -q 'warning' <<< "$out" && echo 1 || echo 0)
steps=$(sed -n 's/^integrated gradients over \([0-9]*\) steps$/\1/p' <<< "$out")
check "ig-adaptive: doubled from 50 ($steps steps)" $(case $steps in 100|200|400|800|1600|3200) echo 0;; *) echo 1;; esac)
grep -qE "\"steps\":[[:space:]]*$steps," $tmp/ig/attribution.json
check "ig-adaptive: attribution.json records the steps" $?
test -s $tmp/ig/attribution.npy
check "ig-output attribution.npy" $?
expect ig-bad-tolerance 2 "--ig-tolerance" -- ig --ig-tolerance -1 -o $tmp/x
cli_done
