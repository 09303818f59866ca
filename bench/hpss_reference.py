#!/usr/bin/python3
"""The NumPy/SciPy reference for bench/hpss.ts (issue 10 item 6): median-filter HPSS
(Fitzgerald 2010) the way librosa.decompose.hpss + librosa.stft/istft do it, written with NumPy
and SciPy only: centred STFT (periodic Hann 2048, hop 512, zero padding), |X|, harmonic =
scipy.ndimage.median_filter along time (31 frames), percussive = along frequency (31 bins),
mode 'reflect'; soft masks H^2 / (H^2 + P^2) and P^2 / (H^2 + P^2) (0 where both are 0); each
source = ISTFT(mask * X) by windowed overlap-add divided by the summed squared window.

  hpss.py SIGNAL.f32 [--repeats 3]   prints {"ms": [...], "median": ms, "energy": [harmonic, percussive]}
"""
import argparse
import json
import time

import numpy as np
from scipy.ndimage import median_filter

N_FFT, HOP, K = 2048, 512, 31


def stft(x):
    pad = N_FFT // 2
    xp = np.pad(x, pad, mode='constant')
    n = 1 + (len(xp) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(xp, shape=(n, N_FFT), strides=(xp.strides[0] * HOP, xp.strides[0]))
    win = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann (scipy get_window('hann'))
    return np.fft.rfft(frames * win, axis=1), win


def istft(X, win, length):
    frames = np.fft.irfft(X, n=N_FFT, axis=1) * win
    n = frames.shape[0]
    out = np.zeros(N_FFT + HOP * (n - 1))
    norm = np.zeros_like(out)
    for i in range(n):
        out[i * HOP:i * HOP + N_FFT] += frames[i]
        norm[i * HOP:i * HOP + N_FFT] += win ** 2
    nz = norm > 1e-10
    out[nz] /= norm[nz]
    pad = N_FFT // 2
    return out[pad:pad + length]


def hpss(x):
    X, win = stft(x)
    S = np.abs(X)  # frames x bins
    H = median_filter(S, size=(K, 1), mode='reflect')
    P = median_filter(S, size=(1, K), mode='reflect')
    den = H ** 2 + P ** 2
    safe = den > 0
    mh = np.where(safe, H ** 2 / np.where(safe, den, 1), 0)
    mp = np.where(safe, P ** 2 / np.where(safe, den, 1), 0)
    return istft(mh * X, win, len(x)), istft(mp * X, win, len(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('signal')
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    x = np.fromfile(a.signal, dtype='<f4').astype(np.float32)
    ms = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        h, p = hpss(x)
        ms.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({'ms': ms, 'median': sorted(ms)[len(ms) // 2], 'energy': [float(np.sum(h ** 2)), float(np.sum(p ** 2))], 'sumError': float(np.max(np.abs(h + p - x)))}))


if __name__ == '__main__':
    main()
