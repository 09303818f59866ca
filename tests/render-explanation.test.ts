// Renderers of explanations (src/render/{explanation,heatmap,listen,html}.ts) on hand-made
// explanations: the JSON round trip, the heatmap PNG decoded with node:zlib (outline, grid and
// tint pixels at the places the layout says), and the listenable WAV masks (temporal spans equal
// the original samples; kept + rest = original; an all-ones STFT mask returns the original).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { gridLabels } from '../bindings/lime.ts';
import { melFilterbank } from '../bindings/mel.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { explanationToJSON, explanationToObject, loadExplanationJSON, makeView, bandsToHz, framesToSeconds, type ExplanationView, type ExcerptContext } from '../src/render/explanation.ts';
import { heatmapPixels, renderHeatmap, formatTick } from '../src/render/heatmap.ts';
import { listenable, temporalSplit, spectralSplit, bandMaskToBinGains, excerptWaveform } from '../src/render/listen.ts';
import { renderHtml } from '../src/render/html.ts';
import { nodeDeflate } from '../src/render/png-node.ts';
import { throwsCode } from './helpers.ts';

const T = 115;
const F = 80;
const fe = SVD_FRONTEND;

function handMade(grid: { time: number; freq: number }, weights: number[], segmentation: 'temporal' | 'spectral' | 'time-frequency'): ExplanationView {
  const d = grid.time * grid.freq;
  assert.is(weights.length, d);
  const names = Array.from({ length: d }, (_, j) => (segmentation === 'temporal' ? `t${j}` : segmentation === 'spectral' ? `f${j}` : `t${Math.floor(j / grid.freq)}f${j % grid.freq}`));
  const features = weights.map((weight, index) => ({ index, name: names[index]!, weight })).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  return makeView({
    method: 'slime',
    label: 'voice',
    labelIndex: 0,
    prediction: 0.875,
    features,
    weights: Float64Array.from(weights),
    intercept: 0.125,
    score: 0.5,
    localPrediction: 0.8,
    components: { d, names, layout: { kind: 'spectrogram', shape: [T, F], labels: gridLabels(T, F, grid), segmentation, grid } },
    params: { seed: 7, modelId: 'test/model', contentType: 'mean_inp', numSamples: 64, topK: 3, timings: { fit: 1.5 } },
    forwardPasses: 64,
  });
}

function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  const idat: Uint8Array[] = [];
  let width = 0;
  let height = 0;
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    if (type === 'IHDR') {
      width = dv.getUint32(o + 8);
      height = dv.getUint32(o + 12);
      assert.is(png[o + 8 + 9], 2, 'RGB');
    }
    if (type === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const raw = new Uint8Array(zlib.inflateSync(Buffer.concat(idat)));
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) pixels.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  return { width, height, pixels };
}

const ramp = () => Float32Array.from({ length: T * F }, (_, i) => (i % F) / F - 1 + Math.floor(i / F) / T);

test('JSON: round trip keeps every number, sorted features, layout, extents in seconds and Hz', () => {
  const e = handMade({ time: 10, freq: 1 }, [0.1, -0.3, 0.25, 0, 0.05, 1e-17, -2e-9, 0.2, 0.30000000000000004, -0.01], 'temporal');
  const ctx: ExcerptContext = { frontEnd: fe, centreFrame: 100, source: 'x.wav' };
  const text = explanationToJSON(e, ctx);
  const doc = JSON.parse(text);
  assert.is(doc.format, 'earshot-explanation');
  assert.equal(doc.weights, Array.from(e.weights));
  assert.equal(doc.features.map((f: { index: number }) => f.index), [8, 1, 2, 7, 0, 4, 9, 6, 5, 3]);
  assert.equal(doc.topPositive, [8, 2, 7]);
  assert.equal(doc.params.seed, 7);
  assert.equal(doc.timings, { fit: 1.5 });
  // temporal d = 10: 9 × 11 frames + 16; component 9 spans frames 99–114
  assert.equal(doc.components.extents[9].frames, [99, 115]);
  assert.equal(doc.components.extents[9].bands, [0, 80]);
  assert.equal(doc.components.extents[0].frames, [0, 11]);
  // excerpt frame 0 = original frame 100 − 57 = 43, whose hop-wide interval starts at 315·43 + 354
  assert.equal(doc.components.extents[0].seconds, [(315 * 43 + 354) / 22050, (315 * 54 + 354) / 22050]);
  assert.equal(framesToSeconds(ctx, 0, 115), doc.excerpt.seconds);
  // the bands of the whole filterbank span from between peak 0 and 1 to between peak 80 and 81
  const [lo, hi] = bandsToHz(fe, 0, 80);
  assert.ok(lo > 27.5 && lo < 60, `lower edge ${lo}`);
  assert.ok(hi > 7700 && hi < 8000, `upper edge ${hi}`);
  assert.equal(doc.components.extents[0].hz, [lo, hi]);

  const back = loadExplanationJSON(text);
  assert.equal(Array.from(back.weights), Array.from(e.weights));
  assert.equal(back.features, e.features);
  assert.equal(back.topPositive(3), e.topPositive(3));
  assert.is(back.intercept, e.intercept);
  assert.equal(Array.from((back.components.layout as { labels: Int32Array }).labels), Array.from(gridLabels(T, F, { time: 10, freq: 1 })));
  assert.is(back.excerptContext!.centreFrame, 100);
  // the JSON of the loaded view is the same document
  assert.equal(explanationToObject(back, back.excerptContext!), doc);
});

test('JSON loader: names what is wrong', () => {
  const e = handMade({ time: 5, freq: 4 }, Array.from({ length: 20 }, (_, j) => (j - 10) / 20), 'time-frequency');
  const good = explanationToObject(e);
  const bad = (mut: (o: any) => void, re: RegExp) => {
    const o = JSON.parse(JSON.stringify(good));
    mut(o);
    throwsCode(() => loadExplanationJSON(o), 'BAD_EXPLANATION', re);
  };
  throwsCode(() => loadExplanationJSON('{nope'), 'BAD_EXPLANATION', /not JSON/);
  bad((o) => (o.format = 'x'), /format/);
  bad((o) => (o.formatVersion = 9), /formatVersion/);
  bad((o) => (o.weights[3] = 'a'), /weights/);
  bad((o) => o.weights.pop(), /weights/);
  bad((o) => (o.features[0].weight = 5), /features\[0\]\.weight/);
  bad((o) => o.features.reverse(), /sorted/);
  bad((o) => (o.components.layout.labels[7] = 20), /labels\[7\]/);
  bad((o) => (o.components.layout.shape = [2]), /shape/);
  bad((o) => (o.topPositive = [0]), /topPositive/);
  bad((o) => (o.prediction = null), /prediction/);
});

test('heatmap: outlines of the top-3, grid lines, tint sign, colour bar; PNG decodes', () => {
  // 5 × 4 grid: component index = 4·t + f; t blocks of 23 frames, f blocks of 20 bands
  const w = Array.from({ length: 20 }, () => 0.01);
  w[6] = 0.5; // t1 f2
  w[13] = 0.4; // t3 f1
  w[19] = 0.3; // t4 f3
  w[0] = -0.6; // t0 f0: strongest, negative → not outlined
  const e = handMade({ time: 5, freq: 4 }, w, 'time-frequency');
  assert.equal(e.topPositive(3), [6, 13, 19]);
  const img = heatmapPixels(e, ramp(), { scale: 4 });
  const png = decodePng(renderHeatmap(e, ramp(), { scale: 4, deflate: nodeDeflate }));
  assert.is(png.width, img.width);
  assert.is(png.height, img.height);
  assert.equal(png.pixels, img.pixels);
  const g = img.geometry;
  assert.equal(g.outlined, [6, 13, 19]);
  const at = (panel: { x: number; y: number }, x: number, y: number) => {
    const p = ((panel.y + y) * png.width + panel.x + x) * 3;
    return [png.pixels[p]!, png.pixels[p + 1]!, png.pixels[p + 2]!];
  };
  const s = 4;
  // component 6 = frames [23, 46) × bands [40, 60): on screen x ∈ [92, 184), y ∈ [(80−60)·4, (80−40)·4) = [80, 160)
  for (const panel of [g.spectrogram, g.weights]) {
    for (let x = 23 * s; x < 46 * s; x++) {
      assert.equal(at(panel, x, 80), [255, 255, 255], `top edge x=${x}`);
      assert.equal(at(panel, x, 159), [255, 255, 255], `bottom edge x=${x}`);
    }
    for (let y = 80; y < 160; y++) {
      assert.equal(at(panel, 92, y), [255, 255, 255], `left edge y=${y}`);
      assert.equal(at(panel, 183, y), [255, 255, 255], `right edge y=${y}`);
    }
    for (let x = 23 * s + 1; x < 46 * s - 1; x++) assert.equal(at(panel, x, 81), [0, 0, 0], `inner line x=${x}`);
    // component 0 (negative) has no outline: its bottom-left corner pixel is not white
    assert.not.equal(at(panel, 0, 319), [255, 255, 255]);
  }
  // inside component 6 on the weight panel: red tint (r > b); inside component 0: blue (b > r)
  const c6 = at(g.weights, 30 * s + 1, 50 * 0 + 110);
  assert.ok(c6[0]! > c6[2]! + 60, `positive tint ${c6}`);
  const c0 = at(g.weights, 10 * s + 1, (80 - 10) * s + 1);
  assert.ok(c0[2]! > c0[0]! + 60, `negative tint ${c0}`);
  // grid line between component 1 and 2 of the same time block (band 40 → 39 boundary, y = 160)... drawn in the cell of band 39's upper neighbour?
  // the grid line is the top pixel row of the cell just below the boundary (band 39 at y=160): lighter than the cell's body
  const lineY = (80 - 40) * s; // top row of band 39's cells
  const body = at(g.spectrogram, 5 * s + 1, lineY + 2);
  const line = at(g.spectrogram, 5 * s + 1, lineY);
  assert.ok(line[0]! + line[1]! + line[2]! > body[0]! + body[1]! + body[2]! + 100, `grid line ${line} vs ${body}`);
  // colour bar: red at the top, blue at the bottom, grey in the middle
  const top = at(g.colourBar, 5, 0);
  const bottom = at(g.colourBar, 5, g.colourBar.height - 1);
  const mid = at(g.colourBar, 5, g.colourBar.height / 2);
  assert.ok(top[0]! > 180 && top[2]! < 90, `top ${top}`);
  assert.ok(bottom[2]! > 130 && bottom[0]! < 90, `bottom ${bottom}`);
  assert.ok(Math.abs(mid[0]! - mid[2]!) < 8, `middle ${mid}`);
  assert.is(g.weightScale, 0.6);
  assert.is(formatTick(0.6), '+0.6');
  assert.is(formatTick(-1.23e-5), '-1.2e-5');
  // low frequencies at the bottom: ramp increases with band → top rows of the spectrogram panel are brighter
  const hiBand = at(g.spectrogram, 2 * s + 2, 2 * s + 2);
  const loBand = at(g.spectrogram, 2 * s + 2, 77 * s + 2);
  assert.ok(hiBand[1]! > loBand[1]!, 'high bands at the top');
  throwsCode(() => heatmapPixels(e, new Float32Array(5)), 'BAD_SHAPE', /spectrogram/);
  throwsCode(() => heatmapPixels(e, ramp(), { scale: 0 }), 'BAD_ARGUMENT', /scale/);
});

function chirp(n: number, seed = 1): Float32Array {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) - 0.5;
  return Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(2 * Math.PI * (200 + i * 0.01) * (i / 22050)) + 0.1 * rnd());
}

test('listen, temporal: kept = original inside the kept spans, 0 elsewhere, kept + rest = original', () => {
  const src = chirp(22050 * 3);
  const ctx: ExcerptContext = { frontEnd: fe, centreFrame: 80 };
  const w = [0.1, 0.9, -0.2, 0.05, 0.7, 0, 0, 0, 0.6, -0.1];
  const e = handMade({ time: 10, freq: 1 }, w, 'temporal');
  const a = listenable(e, src, ctx);
  assert.is(a.mode, 'temporal');
  assert.equal(a.components, [1, 4, 8]);
  const x = excerptWaveform(src, ctx);
  assert.is(x.length, 315 * 114 + 1024);
  assert.equal(a.excerpt, x);
  assert.equal(Array.from(x.subarray(0, 10)), Array.from(src.subarray(315 * 23, 315 * 23 + 10)));
  const fade = Math.round(0.005 * 22050);
  const labels = gridLabels(T, F, { time: 10, freq: 1 });
  const compOf = (smp: number) => labels[Math.min(114, Math.max(0, Math.floor((smp - 354) / 315))) * F]!;
  const nearBoundary = (smp: number) => {
    for (let j = 11; j < T; j += 11) if (Math.abs(smp - (315 * j + 354)) <= fade / 2 + 1) return true;
    return false;
  };
  let checked = 0;
  for (let i = 0; i < x.length; i++) {
    assert.ok(Math.abs(a.kept[i]! + a.rest[i]! - x[i]!) < 1e-6, `kept + rest at ${i}`);
    if (nearBoundary(i)) continue;
    const keep = [1, 4, 8].includes(compOf(i));
    assert.is(a.kept[i], keep ? x[i] : 0, `kept at ${i}`);
    assert.is(a.rest[i], keep ? 0 : x[i], `rest at ${i}`);
    checked++;
  }
  assert.ok(checked > 30000);
  // a cross-fade is monotone between the two levels
  const b = 315 * 11 + 354; // boundary between component 0 (rest) and 1 (kept)
  const g = (i: number) => (x[i] === 0 ? NaN : a.kept[i]! / x[i]!);
  assert.is(g(b - fade), 0, 'before the fade');
  assert.ok(Math.abs(g(b + fade) - 1) < 1e-6, `after the fade ${g(b + fade)}`);
  assert.ok(g(b) > 0.2 && g(b) < 0.8, `mid-fade gain ${g(b)}`);
  // an excerpt at the file start: frames before 0 are padding → zeros
  const early = temporalSplit(src, { frontEnd: fe, centreFrame: 3 }, new Float32Array(T).fill(1));
  assert.is(early.excerpt[0], 0);
  assert.is(early.excerpt[315 * 54], src[0]);
});

test('listen, spectral: all-ones mask returns the original; kept + rest = original; band gains via the filterbank', () => {
  const src = chirp(22050 * 3, 5);
  const ctx: ExcerptContext = { frontEnd: fe, centreFrame: 90 };
  const ones = spectralSplit(src, ctx, new Float32Array(T * F).fill(1));
  let err = 0;
  for (let i = 0; i < ones.excerpt.length; i++) err = Math.max(err, Math.abs(ones.kept[i]! - ones.excerpt[i]!), Math.abs(ones.rest[i]!));
  assert.ok(err < 1e-4, `all-ones mask error ${err}`);
  const e = handMade({ time: 5, freq: 4 }, Array.from({ length: 20 }, (_, j) => ((j * 7) % 11) / 10 - 0.4), 'time-frequency');
  const a = listenable(e, src, ctx);
  assert.is(a.mode, 'spectral');
  assert.is(a.components.length, 3);
  err = 0;
  let energyKept = 0;
  for (let i = 0; i < a.excerpt.length; i++) {
    err = Math.max(err, Math.abs(a.kept[i]! + a.rest[i]! - a.excerpt[i]!));
    energyKept += a.kept[i]! ** 2;
  }
  assert.ok(err < 1e-4, `kept + rest error ${err}`);
  assert.ok(energyKept > 0);
  // the bin gains: a filter's own bins follow its band; bins above the used range copy the top band
  const fb = melFilterbank({ sampleRate: 22050, nFft: 1024, nMels: 80, fMin: 27.5, fMax: 8000, nBinsUsed: 372 });
  const m = new Float32Array(80);
  m.fill(1, 60);
  const gk = bandMaskToBinGains(fb, 80, 372, 513, m);
  assert.is(gk[500], 1);
  assert.is(gk[5], 0);
  for (const v of gk) assert.ok(v >= 0 && v <= 1);
  // a bin covered by two filters with masks 0 and 1 gets the share of the kept one
  let k = -1;
  for (let kk = 0; kk < 372; kk++) if (fb[59 * 372 + kk]! > 0 && fb[60 * 372 + kk]! > 0) k = kk;
  assert.ok(k > 0);
  const share = fb[60 * 372 + k]! / (fb[59 * 372 + k]! + fb[60 * 372 + k]!);
  assert.ok(Math.abs(gk[k]! - share) < 1e-6, `bin ${k}: ${gk[k]} vs ${share}`);
  throwsCode(() => spectralSplit(src, ctx, new Float32Array(7)), 'BAD_SHAPE', /bandMask/);
  throwsCode(() => temporalSplit(src, ctx, Float32Array.of(0, 2)), 'BAD_ARGUMENT', /frameGain\[1\]/);
});

test('HTML: self-contained page with the prediction, table, players and the command', () => {
  const e = handMade({ time: 10, freq: 1 }, [0.1, -0.3, 0.25, 0, 0.05, 0, 0, 0.2, 0.3, -0.01], 'temporal');
  const html = renderHtml(e, {
    ctx: { frontEnd: fe, centreFrame: 100, source: 'song <1>.wav' },
    files: { heatmap: 'heatmap.png', excerpt: 'excerpt.wav', topk: 'topk.wav', rest: 'rest.wav', json: 'explanation.json' },
    command: 'earshot explain "song <1>.wav" --at 1.5 --out out',
  });
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(!/<script[^>]+src=|<link[^>]+href=["']https?:/i.test(html), 'no external scripts or styles');
  assert.ok(html.includes('song &lt;1&gt;.wav'), 'escaped');
  assert.ok(html.includes('src="heatmap.png"'));
  assert.equal(html.match(/<audio /g)!.length, 3);
  assert.ok(html.includes('0.875'));
  for (const n of ['t8', 't2', 't7']) assert.ok(html.includes(n));
  const inline = renderHtml(e, { files: { heatmap: 'h.png' }, embed: { heatmap: new Uint8Array([1, 2, 3]) } });
  assert.ok(inline.includes('src="data:image/png;base64,AQID"'));
});

test.run();
