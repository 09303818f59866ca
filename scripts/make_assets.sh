#!/usr/bin/env bash
# Rebuilds the example clips in assets/ from packages already in node_modules (no network beyond
# apt-get for SoX when it is missing). See assets/README.md for sources and licences.
#   assets/lena-sung.wav           audio-lena's lena.wav → mono 22 050 Hz PCM16, with earshot's
#                                  own decoder + resample_poly-compatible resampler + encoder
#   assets/instrumental-loops.wav  Sonic Pi samples (CC0): the amen drum break ×3, then 5 s of an
#                                  electric-guitar Em9 chord, → mono 22 050 Hz PCM16 with SoX
# Usage: bash scripts/make_assets.sh   (from anywhere; writes into <repo>/assets)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LENA=node_modules/audio-lena/lena.wav
SAMPLES=node_modules/supersonic-scsynth-samples/samples
for f in "$LENA" "$SAMPLES/loop_amen.flac" "$SAMPLES/guit_em9.flac"; do
  [ -f "$f" ] || { echo "missing $f: run npm install first" >&2; exit 1; }
done
if ! command -v sox >/dev/null; then
  echo "installing sox (apt-get)" >&2
  apt-get install -y sox libsox-fmt-all >/dev/null || { apt-get update >/dev/null && apt-get install -y sox libsox-fmt-all >/dev/null; }
fi
mkdir -p assets
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 1. The sung recording, through earshot's own pipeline (loadMono = decode, mean of channels,
#    resample_poly(x, 1, 2); writeWavFile = PCM16, round to nearest, atomic write).
node --import tsx --input-type=module -e "
import { loadMono, writeWavFile } from './src/audio/node.ts';
const y = await loadMono('$LENA', 22050);
await writeWavFile('assets/lena-sung.wav', { sampleRate: 22050, channels: [y] }, { format: 'pcm16' });
"

# 2. The instrumental: SoX mixes each stereo sample to mono (mean of the channels), resamples to
#    22 050 Hz (its default high-quality 'rate'), no dither (-D) so the output is reproducible.
sox -D "$SAMPLES/loop_amen.flac" -c 1 -r 22050 -b 16 "$TMP/amen.wav" repeat 2
sox -D "$SAMPLES/guit_em9.flac" -c 1 -r 22050 -b 16 "$TMP/guitar.wav" trim 0 5 fade t 0 5 0.5
sox -D "$TMP/amen.wav" "$TMP/guitar.wav" "$TMP/instrumental.wav" norm -1
mv "$TMP/instrumental.wav" assets/instrumental-loops.wav

for f in assets/lena-sung.wav assets/instrumental-loops.wav; do
  echo "$f: $(soxi -D "$f") s, $(soxi -r "$f") Hz, $(soxi -c "$f") ch, $(soxi -b "$f")-bit, $(stat -c %s "$f") bytes, sha256 $(sha256sum "$f" | cut -c1-16)"
done
