#!/usr/bin/env bash
# Synthesizes the bundled corpora with espeak-ng into corpora/out/ (git-ignored):
# mini-en and mini-de (a few dozen utterances each, for the demo and tests) and
# en and de (about 27 and 34 hours, for training). Deterministic: the same
# recipes give byte-identical files. Usage: make-corpora.sh NAPKIT [RECIPE...]
set -euo pipefail
napkit=${1:?usage: make-corpora.sh NAPKIT [RECIPE...]}
shift
cd "$(dirname "$0")/.."
recipes=("$@")
[ ${#recipes[@]} -gt 0 ] || recipes=(corpora/recipes/mini-en.json corpora/recipes/mini-de.json
                                     corpora/recipes/en.json corpora/recipes/de.json)
for r in "${recipes[@]}"; do
  name=$(basename "$r" .json)
  # A fresh folder, so a changed recipe leaves no stale utterances behind.
  rm -rf "corpora/out/$name"
  # Two processes on disjoint speakers (espeak-ng is single-threaded); they
  # write exactly what one process would.
  "$napkit" synth --recipe "$r" -o corpora/out --shard 0/2 &
  pid=$!
  "$napkit" synth --recipe "$r" -o corpora/out --shard 1/2
  wait "$pid"
done
