#!/usr/bin/env bash
# Splits the real recordings of ../shared/corpora into what the shipped models
# train on and what they are evaluated on, as manifests (path<TAB>transcript)
# under corpora/out/real-LANG/:
#   NAME-train.tsv    utterances whose sentence is NOT a dev/test sentence of the
#                     synthetic corpus corpora/out/LANG (so the synthetic dev/test
#                     CER stays a measure of unseen sentences), minus held-out speakers
#   NAME-heldout.tsv  utterances whose sentence IS one of them: sentences never
#                     trained on, in any voice
#   NAME-speakers.tsv every utterance of the held-out speakers (LibriSpeech 84 F
#                     and 174 M, the first of each sex in SPEAKERS.TXT): voices
#                     never trained on
#   NAME-all.tsv      a corpus used for evaluation only (Common Voice sample)
# Corpora that are absent are skipped with a message.
# Usage: real-splits.sh NAPKIT LANG   (after make-corpora.sh made corpora/out/LANG)
set -euo pipefail
napkit=$(realpath "${1:?usage: real-splits.sh NAPKIT LANG}")
lang=${2:?usage: real-splits.sh NAPKIT LANG}
cd "$(dirname "$0")/.."
shared=$(realpath -m ../shared/corpora)
out=corpora/out/real-$lang
synth=corpora/out/$lang
[ -d "$synth/dev" ] || { echo "real-splits.sh: $synth: no synthetic corpus (run make-corpora.sh first)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
held=$out/.heldout-sentences
cat "$synth"/dev/*/*/*.trans.txt "$synth"/test/*/*/*.trans.txt | cut -d' ' -f2- | sort -u > "$held"

# split NAME CORPUS [ROLE] [SPEAKER...]: ROLE "train" (default) or "eval".
split() {
  local name=$1 corpus=$2 role=${3:-train}
  shift 3 || shift $#
  if [ ! -e "$corpus" ]; then
    echo "real-splits.sh: $corpus: absent, skipped" >&2
    return
  fi
  "$napkit" --quiet corpus list --no-probe --lang "$lang" "$corpus" > "$out/.list"
  awk -F'\t' -v OFS='\t' -v out="$out/$name" -v role="$role" -v speakers="$*" '
    BEGIN { n = split(speakers, s, " "); for (i = 1; i <= n; i++) holdspk[s[i]] = 1 }
    NR == FNR { held[$0] = 1; next }
    role == "eval" { print $4, $5 > (out "-all.tsv"); next }
    $2 in holdspk { print $4, $5 > (out "-speakers.tsv"); next }
    $5 in held { print $4, $5 > (out "-heldout.tsv"); next }
    { print $4, $5 > (out "-train.tsv") }' "$held" "$out/.list"
  rm -f "$out/.list"
}

if [ "$lang" = en ]; then
  split librispeech "$shared/en/librispeech-dev-clean-mp3/LibriSpeech/dev-clean" train 84 174
  split kathleen "$shared/en/kathleen"
else
  split kerstin "$shared/de/kerstin"
  split commonvoice "$shared/de/commonvoice-sample" eval
fi
rm -f "$held"
wc -l "$out"/*.tsv 2>/dev/null || true
