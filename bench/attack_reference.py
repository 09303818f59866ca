#!/usr/bin/python3
"""PyTorch CPU reference of one veracity attack iteration (methods.md section 6) for
bench/attack.ts: the singing-voice CNN of bench/torch_forward.py (scripts/convert_pytorch.py's
SVDCNN with the weights of an earshot weight directory, eval mode), the front end written in
torch ops (methods.md section 1: symmetric Hann 1024, hop 315, no centring, |rfft| bins < 372,
the mel filterbank passed in by the caller, log(max(mel, 1e-7)), per-band z-score), and the
reference attack step: loss = sum(delta^2) + alpha * BCE-with-logits (mean over predictions),
backward, gradient replaced by its sign, torch.optim.Adam step (lr eta), delta clamped to
[-eps, eps]. One iteration = forward + backward + update, as the reference code runs it.

  attack_reference.py WEIGHT_DIR FB.f32 INPUT.f32 DOMAIN GRAD_OUT.f32 [--threads 1,2] [--iters 30] [--rounds 3]
      FB.f32: the 80 x 372 mel filterbank (float32, row-major); INPUT.f32: one excerpt, the
      waveform (36 934 samples at 22 050 Hz) or the raw log-mel (115 x 80, before z-scoring).
      Writes d logit / d input (same layout as INPUT) to GRAD_OUT.f32 and prints
      {"torch", "logit", "results": [{"threads", "msPerIteration", "iterations"}]}: per thread
      count, the median over rounds of (time of `iters` iterations) / iters, after a warm-up.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_forward import load_earshot  # noqa: E402

DEFAULTS = {'waveform': (0.01, 0.0003, 2.0), 'spectrogram': (0.1, 0.0005, 15.0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('weights')
    ap.add_argument('fb')
    ap.add_argument('input')
    ap.add_argument('domain', choices=['waveform', 'spectrogram'])
    ap.add_argument('grad_out')
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--iters', type=int, default=30)
    ap.add_argument('--rounds', type=int, default=3)
    args = ap.parse_args()

    model, a = load_earshot(args.weights)
    with open(os.path.join(args.weights, 'model.json')) as f:
        norm = json.load(f)['normalization']
    mean = torch.tensor(norm['mean'], dtype=torch.float32)
    std = torch.tensor(norm['std'], dtype=torch.float32)
    T, B = a['frames'], a['bands']
    fb = torch.from_numpy(np.fromfile(args.fb, dtype='<f4').reshape(B, -1).T.copy())  # (372, 80)
    used = fb.shape[0]
    n_fft, hop = 1024, 315
    win = torch.from_numpy(np.hanning(n_fft).astype(np.float32))
    x0 = torch.from_numpy(np.fromfile(args.input, dtype='<f4').copy())

    def model_input(x):
        if args.domain == 'waveform':
            frames = x.unfold(0, n_fft, hop) * win
            mag = torch.fft.rfft(frames).abs()[:, :used]
            logmel = torch.clamp(mag @ fb, min=1e-7).log()
        else:
            logmel = x.reshape(T, B)
        return ((logmel - mean) / std).unsqueeze(0)

    # d logit / d input, for the gradient check
    xg = x0.clone().requires_grad_(True)
    logit = model(model_input(xg), normalised=True)
    logit.sum().backward()
    xg.grad.numpy().astype('<f4').tofile(args.grad_out)

    eps, eta, alpha = DEFAULTS[args.domain]
    with torch.no_grad():
        p = torch.sigmoid(model(model_input(x0), normalised=True))
    target = (p < 0.51).float()

    def run(iters):
        delta = torch.zeros_like(x0, requires_grad=True)
        opt = torch.optim.Adam([delta], lr=eta)
        for _ in range(iters):
            opt.zero_grad()
            z = model(model_input(x0 + delta), normalised=True)
            flipped = bool(((torch.sigmoid(z) >= 0.51).float() == target).all())  # the reference's stop test
            loss = (delta ** 2).sum() + alpha * F.binary_cross_entropy_with_logits(z, target)
            loss.backward()
            delta.grad.sign_()
            opt.step()
            with torch.no_grad():
                delta.clamp_(-eps, eps)
        return flipped

    results = []
    for th in [int(s) for s in args.threads.split(',')]:
        torch.set_num_threads(th)
        run(3)  # warm-up
        samples = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            run(args.iters)
            samples.append((time.perf_counter() - t0) * 1000 / args.iters)
        samples.sort()
        results.append({'threads': th, 'msPerIteration': samples[len(samples) // 2], 'iterations': args.iters * args.rounds})
    print(json.dumps({'torch': torch.__version__, 'logit': float(logit), 'results': results}))


if __name__ == '__main__':
    main()
