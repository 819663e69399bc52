#!/usr/bin/env bash
# The main job on the bundled data, as far as napkit is built so far:
# features of a bundled recording. (The report issue turns this into the full
# analysis: corpora → transcription → alignment → GradNAPs → clusters → report.)
set -euo pipefail
napkit=${1:-build/napkit}
out=${DEMO_OUT:-build/demo}
mkdir -p "$out"

audio=tests/fixtures/frontend/signal.wav
echo "== log-mel and MFCC features of $audio"
"$napkit" features "$audio" -o "$out/logmel.npy" --kind logmel --n-mels 40 --normalize utterance
"$napkit" features "$audio" -o "$out/mfcc.npy" --kind mfcc --n-mfcc 13
echo "demo outputs are in $out/ (load them with numpy.load)"
