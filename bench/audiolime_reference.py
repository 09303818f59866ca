#!/usr/bin/python3
"""The Python reference run for bench/audiolime.ts (issue 10 item 6): one audioLIME explanation
done the way the reference code (CPJKU/audioLIME) does it, for the frame-level singing-voice CNN:

- NumPy sampling of N_s bit rows (RandomState(seed).randint(0, 2), row 0 all ones);
- per sample: the waveform of the sample = the sum of its "on" components (source s on segment t,
  zero elsewhere), then the model's front end in NumPy (methods.md section 1: symmetric Hann 1024,
  hop 315, no centring, |rfft|[:372] @ the 80-band mel filterbank built as methods.md states it,
  log(max(., 1e-7)), per-band z-score, 57 frames of padding);
- the CNN in PyTorch CPU in batches of samples, in its fully-convolutional form (what the 001
  reference code uses for frame-wise prediction over a file): pooling stride 1 in time, conv3 /
  conv4 / pool2 dilated 3 in time, fc1 as an (11, 7) convolution dilated 9; mean sigmoid over the
  frames = the explained output;
- sklearn's cosine pairwise distances, LIME's kernel sqrt(exp(-d^2/0.25^2)), Ridge(alpha=1) with
  sample_weight, its weighted R^2; components sorted by signed weight.

  explain WEIGHT_DIR SOURCES.f32 N_SOURCES N_SEGMENTS [--samples N] [--run-samples M] [--seed S] [--batch B] [--threads 2]
      SOURCES.f32: N_SOURCES signals of equal length (little-endian float32, 22 050 Hz) back to back.
      --run-samples M < N: compute only the first M samples and scale the sampling + model time
      linearly to N (said so in the output). Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(__file__))
from torch_forward import load_earshot  # noqa: E402

SR, NFFT, HOP, NMELS, FMIN, FMAX, NBINS_USED, PAD, T = 22050, 1024, 315, 80, 27.5, 8000.0, 372, 57, 115


def mel_filterbank():
    """methods.md section 1, as the singing-voice reference builds it."""
    mel = lambda f: 1127.0 * np.log1p(f / 700.0)
    imel = lambda m: 700.0 * np.expm1(m / 1127.0)
    peaks = imel(np.linspace(mel(FMIN), mel(FMAX), NMELS + 2))
    freqs = np.linspace(0, SR / 2, NFFT // 2 + 1)
    p = np.searchsorted(freqs, peaks)
    fb = np.zeros((NFFT // 2 + 1, NMELS), dtype=np.float64)
    for b in range(NMELS):
        l, c, r = p[b], p[b + 1], p[b + 2]
        fb[l:c, b] = (freqs[l:c] - peaks[b]) / (c - l) if c > l else 0
        fb[c:r, b] = (peaks[b + 2] - freqs[c:r]) / (r - c) if r > c else 0
        s = fb[:, b].sum()
        if s > 0:
            fb[:, b] /= s
    return fb[:NBINS_USED].astype(np.float32)


def front_end(x, fb, mean, std, pad_row):
    n = (len(x) - NFFT) // HOP + 1
    frames = np.lib.stride_tricks.as_strided(x, shape=(n, NFFT), strides=(x.strides[0] * HOP, x.strides[0]))
    spec = np.abs(np.fft.rfft(frames * np.hanning(NFFT).astype(np.float32), axis=1))[:, :NBINS_USED]
    lm = (np.log(np.maximum(spec.astype(np.float32) @ fb, 1e-7)) - mean) / std
    return np.concatenate([np.repeat(pad_row[None], PAD, 0), lm, np.repeat(pad_row[None], PAD, 0)]).astype(np.float32)


def frame_probs(m, x):
    """Fully-convolutional form: x (B, L, 80) padded normalised -> (B, L - 114) P(voice)."""
    a = m.alpha
    bn = lambda mod, h: Fn.batch_norm(h, mod.running_mean, mod.running_var, mod.weight, mod.bias, False, 0.0, mod.eps)
    h = x.unsqueeze(1)
    w1 = m.conv1.weight - m.conv1.weight.mean(dim=(2, 3), keepdim=True)
    h = Fn.leaky_relu(bn(m.bn1, Fn.conv2d(h, w1, m.conv1.bias)), a)
    h = Fn.leaky_relu(bn(m.bn2, m.conv2(h)), a)
    h = Fn.max_pool2d(h, (3, 3), stride=(1, 3))
    h = Fn.leaky_relu(bn(m.bn3, Fn.conv2d(h, m.conv3.weight, m.conv3.bias, dilation=(3, 1))), a)
    h = Fn.leaky_relu(bn(m.bn4, Fn.conv2d(h, m.conv4.weight, m.conv4.bias, dilation=(3, 1))), a)
    h = Fn.max_pool2d(h, (3, 3), stride=(1, 3), dilation=(3, 1))
    c, t, f = m.pool2_shape
    w = m.fc1.weight.reshape(-1, c, t, f)
    h = Fn.conv2d(h, w, m.fc1.bias, dilation=(9, 1))  # (B, 256, L', 1)
    h = h.squeeze(3).transpose(1, 2)  # (B, L', 256)
    h = Fn.leaky_relu(Fn.batch_norm(h.reshape(-1, h.shape[2]), m.bn5.running_mean, m.bn5.running_var, m.bn5.weight, m.bn5.bias, False, 0.0, m.bn5.eps), a)
    h = Fn.leaky_relu(Fn.batch_norm(Fn.linear(h, m.fc2.weight, m.fc2.bias), m.bn6.running_mean, m.bn6.running_var, m.bn6.weight, m.bn6.bias, False, 0.0, m.bn6.eps), a)
    z = Fn.linear(h, m.fc3.weight, m.fc3.bias).reshape(x.shape[0], -1)
    return torch.sigmoid(z)


def explain(args):
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    m, arch = load_earshot(args.weights)
    with open(os.path.join(args.weights, 'model.json')) as f:
        norm = json.load(f)['normalization']
    mean = np.array(norm['mean'], dtype=np.float32)
    std = np.array(norm['std'], dtype=np.float32)
    pad_row = ((np.log(np.float32(1e-7)) - mean) / std).astype(np.float32)
    fb = mel_filterbank()
    src = np.fromfile(args.sources, dtype='<f4').reshape(args.n_sources, -1)
    S, n = src.shape
    N = args.n_segments
    per = n // N
    segs = [(t * per, (t + 1) * per) for t in range(N)]
    L = per * N
    d = S * N
    comps = np.zeros((d, L), dtype=np.float32)  # component index = segment * S + source (the reference's order)
    for t, (a, b) in enumerate(segs):
        for s in range(S):
            comps[t * S + s, a:b] = src[s, a:b]
    t_ready = time.perf_counter()

    rng = np.random.RandomState(args.seed)
    data = rng.randint(0, 2, args.samples * d).reshape((args.samples, d))
    data[0, :] = 1
    M = min(args.run_samples or args.samples, args.samples)
    y = np.empty(M)
    t_fe = t_model = 0.0
    with torch.inference_mode():
        for s0 in range(0, M, args.batch):
            rows = data[s0:min(M, s0 + args.batch)]
            t0 = time.perf_counter()
            batch = np.stack([front_end(comps[np.nonzero(r)[0]].sum(0) if r.any() else np.zeros(L, np.float32), fb, mean, std, pad_row) for r in rows])
            t1 = time.perf_counter()
            p = frame_probs(m, torch.from_numpy(batch))
            y[s0:s0 + len(rows)] = p.mean(1).numpy()
            t2 = time.perf_counter()
            t_fe += t1 - t0
            t_model += t2 - t1
    scale = args.samples / M
    out = dict(numSamples=args.samples, runSamples=M, seed=args.seed, prediction=float(y[0]), torch=torch.__version__, threads=torch.get_num_threads())
    t_fit = 0.0
    if M == args.samples:
        t3 = time.perf_counter()
        from sklearn.linear_model import Ridge
        from sklearn.metrics import pairwise_distances
        dist = pairwise_distances(data, data[0].reshape(1, -1), metric='cosine').ravel()
        w = np.sqrt(np.exp(-(dist ** 2) / 0.25 ** 2))
        r = Ridge(alpha=1, fit_intercept=True).fit(data, y, sample_weight=w)
        score = r.score(data, y, sample_weight=w)
        t_fit = time.perf_counter() - t3
        order = sorted(range(d), key=lambda j: r.coef_[j], reverse=True)
        out.update(weights=r.coef_.tolist(), intercept=float(r.intercept_), score=float(score), top3=[j for j in order if r.coef_[j] > 0][:3])
    else:
        out.update(y=y[:8].tolist())
    out['timings'] = dict(
        loadMs=(t_ready - t_start) * 1e3, frontEndMs=t_fe * 1e3 * scale, modelMs=t_model * 1e3 * scale, fitMs=t_fit * 1e3,
        explainMs=((t_fe + t_model) * scale + t_fit) * 1e3, scaled=scale)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('explain')
    e.add_argument('weights')
    e.add_argument('sources')
    e.add_argument('n_sources', type=int)
    e.add_argument('n_segments', type=int)
    e.add_argument('--samples', type=int, default=2048)
    e.add_argument('--run-samples', type=int, default=0)
    e.add_argument('--seed', type=int, default=0)
    e.add_argument('--batch', type=int, default=8)
    e.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    explain(args)


if __name__ == '__main__':
    main()
