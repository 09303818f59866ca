#!/usr/bin/env bash
# A cheap check of the --game-music tracks (docs/corpus.md): the fraction of frames a model calls
# voice (median 56, the weight file's threshold) on three 30-s excerpts of every track, at 20, 50
# and 80 % of its length. High values mean vocals we did not find, or accompaniment the model
# confuses with singing; only listening tells which. Usage (after `npm run build`):
#   bash scripts/corpus/screen-music.sh [model dir] > results/corpus/game-music-screen.tsv
set -euo pipefail
# results/corpus/game-music-screen.tsv was made with assets/models/svd-v2 (then the default).
MODEL="${1:-assets/models/svd-default}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# The folders are build.ts --game-music's (scripts/corpus/sources.ts GAME_MUSIC), read from there.
mapfile -t DIRS < <(node --import tsx --input-type=module -e "const { GAME_MUSIC } = await import('./scripts/corpus/sources.ts'); for (const g of GAME_MUSIC) console.log(g.dir);")
[ "${#DIRS[@]}" -gt 0 ] || { echo "screen-music: no GAME_MUSIC folders read from scripts/corpus/sources.ts" >&2; exit 1; }
printf 'mean\tat20\tat50\tat80\ttrack\n'
find "${DIRS[@]}" -type f \( -name '*.ogg' -o -name '*.opus' \) | LC_ALL=C sort | while IFS= read -r f; do
  src="$f"
  if [[ "$f" == *.opus ]]; then opusdec --quiet "$f" "$TMP/dec.wav"; src="$TMP/dec.wav"; fi
  d=$(soxi -D "$src")
  fr=()
  for q in 0.2 0.5 0.8; do
    st=$(awk -v d="$d" -v q="$q" 'BEGIN { s = d * q - 15; if (s < 0) s = 0; print s }')
    sox -R -V1 "$src" -e floating-point -b 32 -c 1 -r 22050 "$TMP/x.wav" trim "$st" 30
    npx earshot predict "$TMP/x.wav" --model "$MODEL" --median 56 --format csv -o "$TMP/p.csv" 2>/dev/null
    fr+=("$(awk -F, 'NR > 1 { n++; s += $4 } END { printf "%.3f", s / n }' "$TMP/p.csv")")
  done
  mean=$(awk -v a="${fr[0]}" -v b="${fr[1]}" -v c="${fr[2]}" 'BEGIN { printf "%.3f", (a + b + c) / 3 }')
  printf '%s\t%s\t%s\t%s\t%s\n' "$mean" "${fr[0]}" "${fr[1]}" "${fr[2]}" "$f"
done
