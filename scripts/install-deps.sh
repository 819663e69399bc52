#!/usr/bin/env bash
# Installs the Debian packages napkit needs to build, test and run.
# Idempotent and quiet when everything is present; uses sudo when not root.
set -euo pipefail

# Build and run time libraries.
packages=(
  build-essential pkg-config
  libsndfile1-dev libfftw3-dev libopenblas-dev libcjson-dev
  libespeak-ng-dev espeak-ng-data libcairo2-dev libsoxr-dev
  fonts-dejavu-core
  festlex-cmu
  libopenmpi-dev openmpi-bin
  python3-numpy
)
# (OpenMPI: `mpirun -n N napkit naps`; NumPy: CLI tests read .npy outputs with it.)
# Extra packages for a target, e.g. `install-deps.sh fixtures` for the fixture generators,
# `install-deps.sh browser` for the page check of `napkit report`, `install-deps.sh text` for
# scripts/make-sentences.py (the committed train-only sentence lists).
for group in "$@"; do
  case "$group" in
    fixtures) packages+=(python3-scipy python3-sklearn python3-torch python3-torchaudio) ;;
    browser) packages+=(chromium) ;;
    text) packages+=(fortunes fortunes-min fortunes-de wamerican wngerman dict-gcide) ;;
    *) echo "install-deps.sh: unknown package group '$group'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; update once before installing.
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
