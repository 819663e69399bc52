#!/usr/bin/env bash
# The napkit command: exit codes (0 ok, 1 user error, 2 bad usage), help,
# and `napkit features` end to end. Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

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
shape features-shape $tmp/logmel.npy '(40, 501)'
[ "$(stat -c %s $tmp/logmel.npy)" -eq $((128 + 40 * 501 * 4)) ]
check features-size $?
expect features-mfcc 0 '' -- $napkit features $sig -o $tmp/mfcc.npy --kind mfcc --n-mfcc 13 --normalize band
shape features-mfcc-shape $tmp/mfcc.npy '(13, 501)'
cli_done
