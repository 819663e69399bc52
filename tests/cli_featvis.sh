#!/usr/bin/env bash
# napkit featvis maximize end to end on the tiny attribution model: its
# outputs, the summary line and featvis.json, and its usage errors.
# Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

tiny=tests/fixtures/attrib/tiny.safetensors
out=$tmp/fv
expect featvis-maximize 0 'channel 2:1: h .* within 10% of the bound' -- \
  $napkit featvis maximize --model $tiny --layer 2 --channel 1 --frames 40 --steps 30 --gl-iters 2 -o $out
shape featvis-x $out/featvis.npy '(8, 40)'
shape featvis-trace $out/trace.npy '(31,)'
for f in featvis.png featvis.wav featvis.json; do
  test -s $out/$f
  check "featvis-output $f" $?
done
grep -qE '"near_bound":[[:space:]]*0$' $out/featvis.json
check "featvis-json: no cell near the bound" $?
expect featvis-unnormalized 0 'h ' -- \
  $napkit featvis maximize --model $tiny --layer 2 --no-normalize --bound 0 --frames 40 --steps 5 --gl-iters 0 -o $tmp/raw
expect featvis-bad-bound 2 '--bound wants a number' -- $napkit featvis maximize --model $tiny --bound -1 -o $tmp/x
expect featvis-no-clamp 2 "unknown option '--clamp'" -- $napkit featvis maximize --model $tiny --clamp 3 -o $tmp/x
expect featvis-bad-layer 1 'layer 9 is outside' -- $napkit featvis maximize --model $tiny --layer 9 -o $tmp/x
cli_done
