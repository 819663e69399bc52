#!/usr/bin/env bash
# napkit model / forward / grad end to end: exit codes, messages naming the
# file, output files and their shapes. Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

sig=tests/fixtures/frontend/signal.wav   # 5 s: 501 frames; small.json gives 250 output frames
m=$tmp/small.safetensors
expect model-help 0 'usage: napkit model' -- $napkit model --help
expect model-no-action 2 'expects an action' -- $napkit model
expect model-init-no-arch 2 'needs --arch' -- $napkit model init -o $m
expect model-init 0 '' -- $napkit model init --arch models/arch/small.json --seed 5 -o $m
expect model-info 0 'parameters: 2138909' -- $napkit model info $m
expect model-info-arch 0 'receptive field: 194 input frames \(1940 ms\)' -- $napkit model info models/arch/wav2letter-mfcc.json
expect model-info-missing 1 'nope\.safetensors' -- $napkit model info $tmp/nope.safetensors

# the onset delay: none in a new model, stored in place, read back from a quality.json
! $napkit model info $m | grep -q 'onset delay'
check "a new model has no onset delay" $?
expect set-delay 0 'onset delay 121 ms' -- $napkit model set-delay $m 0.121
expect set-delay-info 0 'onset delay: 121 ms' -- $napkit model info $m
printf '{"delay_ms": 100, "boundary": "spike", "all": {"median_error_ms": 18}}' > $tmp/q.json
expect set-delay-from 0 'onset delay 118 ms' -- $napkit model set-delay $m --from $tmp/q.json
expect set-delay-from-info 0 'onset delay: 118 ms' -- $napkit model info $m
printf '{"delay_ms": 0, "boundary": "midway", "all": {"median_error_ms": 90}}' > $tmp/qm.json
expect set-delay-midway 2 'measured with --boundary midway, not spike' -- $napkit model set-delay $m --from $tmp/qm.json
printf '{"delay_ms": 100}' > $tmp/qx.json
expect set-delay-not-quality 2 'qx\.json: not a quality\.json' -- $napkit model set-delay $m --from $tmp/qx.json
expect set-delay-none 2 'one of SECONDS' -- $napkit model set-delay $m
expect set-delay-two 2 'one of SECONDS' -- $napkit model set-delay $m 0.1 --clear
expect set-delay-range 2 'SECONDS wants a number' -- $napkit model set-delay $m 11
expect set-delay-missing 1 'nope\.safetensors' -- $napkit model set-delay $tmp/nope.safetensors 0.1
expect set-delay-weights 1 'not a napkit model' -- \
  $napkit model set-delay tests/fixtures/wav2letter/tiny_torchaudio.safetensors 0.1
expect from-elsewhere 2 'for set-delay' -- $napkit model info --clear $m
expect model-info-kept 0 'onset delay: 118 ms' -- $napkit model info $m
# napkit train --init starts from the weights but not from their delay
cp $sig $tmp/signal.wav
printf 'signal.wav\thello world\n' > $tmp/one.tsv
expect train-init 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json --init $m --train $tmp/one.tsv \
  --epochs 1 --threads 1 -o $tmp/trained.safetensors
[ -f $tmp/trained.safetensors ] && ! $napkit model info $tmp/trained.safetensors | grep -q 'onset delay'
check "train --init passes the onset delay on" $?
# a model trained from a trained one keeps that one's recipe inside its own
expect train-init-twice 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json --init $tmp/trained.safetensors \
  --train $tmp/one.tsv --epochs 2 --threads 1 -o $tmp/twice.safetensors
grep -aqF '\"epochs\":2,' $tmp/twice.safetensors && grep -aqF '\"epochs\":1,' $tmp/twice.safetensors &&
  grep -aqF '\"init_training\":{\"train\":[\"'"$tmp"'/one.tsv\"],' $tmp/twice.safetensors &&
  ! grep -aqF 'init_training' $tmp/trained.safetensors
check "train --init records the initial model's recipe (init_training)" $?
# --weights picks the random initialization (kaiming by default); anything else is refused
expect train-weights-bad 2 "--weights wants one of pytorch\|kaiming, got 'he'" -- $napkit --quiet train \
  --arch models/arch/small.json --train $tmp/one.tsv --weights he -o $tmp/x.safetensors
expect train-weights-pytorch 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json --weights pytorch \
  --train $tmp/one.tsv --epochs 1 --threads 1 -o $tmp/pytorch.safetensors
expect train-weights-kaiming 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json --weights kaiming \
  --train $tmp/one.tsv --epochs 1 --threads 1 -o $tmp/kaiming.safetensors
expect train-weights-default 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json \
  --train $tmp/one.tsv --epochs 1 --threads 1 -o $tmp/default.safetensors
cmp -s $tmp/kaiming.safetensors $tmp/default.safetensors && ! cmp -s $tmp/kaiming.safetensors $tmp/pytorch.safetensors
check "train: kaiming is the default initialization, pytorch another" $?
grep -aqF '\"weights\":\"kaiming\"' $tmp/kaiming.safetensors && grep -aqF '\"weights\":\"pytorch\"' $tmp/pytorch.safetensors
check "train records the initialization in the model file" $?
# --tempo perturbs each utterance's tempo and is recorded; out of range is refused
expect train-tempo 0 'wrote' -- $napkit --quiet train --arch models/arch/small.json --tempo 0.1 \
  --train $tmp/one.tsv --epochs 1 --threads 1 -o $tmp/tempo.safetensors
grep -aqF '\"tempo\":0.1' $tmp/tempo.safetensors && ! grep -aqF '\"tempo\"' $tmp/default.safetensors
check "train records --tempo in the model file" $?
expect train-tempo-range 2 '--tempo' -- $napkit --quiet train --arch models/arch/small.json --tempo 0.9 \
  --train $tmp/one.tsv -o $tmp/x.safetensors
# --resume refuses options that differ from the checkpoint's run; more epochs are fine
expect train-resume-other 1 'tempo\.safetensors\.ckpt: cannot resume: .* had tempo 0\.1, this one has 0\.2' -- \
  $napkit --quiet train --arch models/arch/small.json --tempo 0.2 --train $tmp/one.tsv --epochs 2 --threads 1 \
  --resume $tmp/tempo.safetensors.ckpt -o $tmp/x.safetensors
expect train-resume-longer 0 'epoch 2/2' -- $napkit train --arch models/arch/small.json --tempo 0.1 \
  --train $tmp/one.tsv --epochs 2 --threads 1 --resume $tmp/tempo.safetensors.ckpt -o $tmp/x.safetensors
# --init grows a narrower model into a wider --arch; another alphabet is refused
expect train-init-grow 0 '3773725 parameters' -- $napkit train --arch models/arch/medium.json --init $m \
  --train $tmp/one.tsv --epochs 1 --threads 1 -o $tmp/grown.safetensors
expect train-init-alphabet 1 'small\.safetensors: cannot start medium-de from it: different alphabet' -- \
  $napkit --quiet train --arch models/arch/medium-de.json --init $m --train $tmp/one.tsv --epochs 1 -o $tmp/x.safetensors
expect train-init-narrower 1 'grown\.safetensors: cannot start small from it: different channels' -- \
  $napkit --quiet train --arch models/arch/small.json --init $tmp/grown.safetensors --train $tmp/one.tsv --epochs 1 -o $tmp/x.safetensors
expect set-delay-clear 0 'onset delay removed' -- $napkit model set-delay $m --clear
! $napkit model info $m | grep -q 'onset delay'
check "set-delay --clear leaves a delay" $?
cat > $tmp/tiny.json <<'JSON'
{"name": "tiny", "alphabet": ["_", " ", "a", "b"], "frontend": {"kind": "logmel", "n_mels": 3},
 "layers": [{"type": "conv1d", "in": 3, "out": 4, "kernel": 5, "padding": 2},
            {"type": "conv1d", "in": 4, "out": 5, "kernel": 3, "stride": 2},
            {"type": "conv1d", "in": 5, "out": 4, "kernel": 1, "activation": "none"}]}
JSON
ta=tests/fixtures/wav2letter/tiny_torchaudio.safetensors
expect import-torchaudio 0 '' -- $napkit model import --arch $tmp/tiny.json --weights $ta --torchaudio -o $tmp/tiny.safetensors
expect import-info 0 'parameters: 153' -- $napkit model info $tmp/tiny.safetensors
expect import-plain-names 1 'layers\.0\.weight.*missing' -- $napkit model import --arch $tmp/tiny.json --weights $ta -o $tmp/t2.safetensors
expect import-wrong-arch 1 'holds 3 convolutions' -- $napkit model import --arch models/arch/small.json --weights $ta --torchaudio -o $tmp/t2.safetensors

expect forward-audio 0 '' -- $napkit forward --model $m $sig -o $tmp/fw
shape forward-logits $tmp/fw/logits.npy '(29, 250)'
shape forward-log-probs $tmp/fw/log_probs.npy '(29, 250)'
shape forward-layer0 $tmp/fw/layer_00.npy '(128, 250)'
shape forward-layer8 $tmp/fw/layer_08.npy '(256, 250)'
shape forward-features $tmp/fw/features.npy '(40, 501)'
[ -f $tmp/fw/transcript.txt ]
check "transcript" $?
expect forward-features 0 '' -- $napkit forward --model $m --features $tmp/fw/features.npy -o $tmp/fw2
cmp -s $tmp/fw/logits.npy $tmp/fw2/logits.npy
check "audio and features runs differ" $?
expect forward-both-inputs 2 'either AUDIO or --features' -- $napkit forward --model $m $sig --features $tmp/fw/features.npy -o $tmp/x
expect forward-wrong-features 1 'logits\.npy: features must have shape \(40, T\)' -- $napkit forward --model $m --features $tmp/fw/logits.npy -o $tmp/x
head -c 5000 $m > $tmp/cut.safetensors
expect forward-truncated-model 1 'cut\.safetensors' -- $napkit forward --model $tmp/cut.safetensors $sig -o $tmp/x
expect forward-weights-only 1 'not a napkit model' -- $napkit forward --model $ta $sig -o $tmp/x

expect grad-ctc 0 '' -- $napkit grad --model $m --features $tmp/fw/features.npy --target-ctc "Hello, World" -o $tmp/g
shape grad-input $tmp/g/input_grad.npy '(40, 501)'
shape grad-layer10 $tmp/g/layer_10_grad.npy '(29, 250)'
grep -qE '^[0-9]+\.[0-9]+' $tmp/g/loss.txt
check "loss.txt" $?
expect grad-logit 0 '' -- $napkit grad --model $m $sig --target-logit 3:100 --rule guided -o $tmp/g2
[ ! -e $tmp/g2/loss.txt ]
check "loss.txt for a logit target" $?
expect grad-logit-range 1 'outside the logits \(29 classes, 250 frames\)' -- $napkit grad --model $m $sig --target-logit 3:250 -o $tmp/x
expect grad-logit-syntax 2 'wants K:T' -- $napkit grad --model $m $sig --target-logit 3 -o $tmp/x
expect grad-two-targets 2 'exactly one of' -- $napkit grad --model $m $sig --target-logit 3:1 --target-ctc a -o $tmp/x
expect grad-bad-text 1 'target-ctc "3 cats": .*digit' -- $napkit grad --model $m $sig --target-ctc "3 cats" -o $tmp/x
expect grad-bad-rule 2 'gradient.guided' -- $napkit grad --model $m $sig --target-logit 3:1 --rule lrp -o $tmp/x
cli_done
