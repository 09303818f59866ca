#!/usr/bin/env bash
# Installs the Debian packages that scripts/corpus/build.ts drives (speech/singing synthesis,
# MIDI rendering, real music, audio conversion). Idempotent: packages already installed are
# skipped, and apt-get update runs at most once. Waits for another apt/dpkg process to finish.
set -euo pipefail

# Festival voices: only the diphone voices whose singing mode follows the score (the HTS
# voices festvox-us-slt-hts / festvox-ca-ona-hts ignore note durations; festvox-ru is clunits).
# vorbis-tools is optional (sox with libsox-fmt-all decodes the Ogg files itself).
PKGS=(
  sox libsox-fmt-all vorbis-tools
  espeak-ng
  festival festvox-kallpc16k festvox-kdlpc16k
  festvox-italp16k festvox-itapc16k festvox-czech-dita festvox-czech-machac
  festvox-suopuhe-lj festvox-suopuhe-mv
  fluidsynth fluid-soundfont-gm
  wesnoth-1.16-music
)
# `--game-music`: what build.ts --game-music adds (game soundtracks, two more GM sound fonts,
# opusdec for warzone2100's Opus files; about 290 MB installed).
if [ "${1:-}" = "--game-music" ]; then
  PKGS+=(opus-tools singularity-music hyperrogue-music planetblupi-music-ogg warzone2100-music
         musescore-general-soundfont-small timgm6mb-soundfont)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "corpus deps: all ${#PKGS[@]} packages already installed" >&2
  exit 0
fi
echo "corpus deps: installing ${missing[*]}" >&2

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# Another process (a colleague's install, unattended upgrades) may hold the dpkg/apt lock:
# retry with a pause instead of failing.
apt_retry() {
  local tries=0
  until $SUDO "$@"; do
    tries=$((tries + 1))
    if [ $tries -ge 30 ]; then echo "corpus deps: '$*' failed $tries times" >&2; return 1; fi
    echo "corpus deps: '$1 $2' failed (apt lock held?), retrying in 10 s" >&2
    sleep 10
  done
}

apt_retry apt-get update
apt_retry apt-get install -y --no-install-recommends "${missing[@]}"
echo "corpus deps: done" >&2
