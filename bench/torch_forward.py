#!/usr/bin/python3
"""PyTorch CPU forward pass of the singing-voice CNN for bench/model.ts (issue 4) and
bench/engines.ts (issue 7): the reference module of scripts/convert_pytorch.py (SVDCNN,
methods.md section 2) loaded with the weights of an earshot weight directory (model.json +
weights.bin, docs/model.md), eval mode, torch.inference_mode, z-scored input (normalised=True).

  torch_forward.py check WEIGHT_DIR INPUT.f32 N
      INPUT.f32: N normalised 115x80 excerpts (little-endian float32).
      Prints {"torch", "logits": [N logits]}.
  torch_forward.py time WEIGHT_DIR [--batches 1,32,256] [--threads 1,2] [--budget SECONDS]
      Prints {"torch", "results": [{"threads", "batch", "msPerExcerpt", "reps"}]}: the median time
      per excerpt of repeated calls (after one warm-up call) on seeded N(0, 1) inputs.

(Note: an earlier uncommitted version of this file by the issue-4 helper was overwritten by
mistake by the issue-7 helper, H10, and rebuilt from bench/model.ts's calls; same interface.)

Weight mapping (the inverse of convert_pytorch.py): HWIO -> OIHW; fc1 (time, band, channel, out)
-> (out, channel*time*band); dense [in, out] -> [out, in]; BN gamma/beta/mean/variance ->
weight/bias/running_mean/running_var.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
import convert_pytorch as cp  # noqa: E402


def load_earshot(weight_dir):
    with open(os.path.join(weight_dir, 'model.json')) as f:
        man = json.load(f)
    with open(os.path.join(weight_dir, man['weights']['file']), 'rb') as f:
        raw = f.read()
    t = {}
    for e in man['weights']['tensors']:
        dt = np.dtype('<f4') if e['dtype'] == 'float32' else np.dtype('<f2')
        n = int(np.prod(e['shape']))
        t[e['name']] = np.frombuffer(raw, dtype=dt, count=n, offset=e['byteOffset']).astype(np.float32).reshape(e['shape'])
    a = man['architecture']
    m = cp.SVDCNN(frames=a['frames'], bands=a['bands'], filters=tuple(a['convFilters']), dense=tuple(a['dense']),
                  eps=a['bnEpsilon'], alpha=a['leakyReluAlpha'])
    sd = {}
    for i in range(1, 5):
        sd[f'conv{i}.weight'] = t[f'conv{i}.kernel'].transpose(3, 2, 0, 1)
        sd[f'conv{i}.bias'] = t[f'conv{i}.bias']
    k = t['fc1.kernel']  # (t, f, c, d1)
    sd['fc1.weight'] = k.transpose(3, 2, 0, 1).reshape(k.shape[3], -1)
    sd['fc1.bias'] = t['fc1.bias']
    for j in (2, 3):
        sd[f'fc{j}.weight'] = t[f'fc{j}.kernel'].T
        sd[f'fc{j}.bias'] = t[f'fc{j}.bias']
    for src, dst in [(f'conv{i}', f'bn{i}') for i in range(1, 5)] + [('fc1', 'bn5'), ('fc2', 'bn6')]:
        sd[f'{dst}.weight'] = t[f'{src}.bn.gamma']
        sd[f'{dst}.bias'] = t[f'{src}.bn.beta']
        sd[f'{dst}.running_mean'] = t[f'{src}.bn.mean']
        sd[f'{dst}.running_var'] = t[f'{src}.bn.variance']
    state = m.state_dict()
    for name, v in sd.items():
        state[name] = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
    m.load_state_dict(state)
    return m.eval(), a


def check(args):
    m, a = load_earshot(args.weights)
    x = np.fromfile(args.input, dtype='<f4').reshape(args.n, a['frames'], a['bands'])
    with torch.inference_mode():
        z = m(torch.from_numpy(x.copy()), normalised=True)
    print(json.dumps({'torch': torch.__version__, 'logits': [float(v) for v in z]}))


def time_cmd(args):
    m, a = load_earshot(args.weights)
    rng = np.random.RandomState(0)
    results = []
    for th in [int(s) for s in args.threads.split(',')]:
        torch.set_num_threads(th)
        for b in [int(s) for s in args.batches.split(',')]:
            xb = torch.from_numpy(rng.randn(b, a['frames'], a['bands']).astype(np.float32))
            with torch.inference_mode():
                m(xb, normalised=True)  # warm-up
                samples = []
                start = time.perf_counter()
                while len(samples) < 2 or (time.perf_counter() - start < args.budget and len(samples) < 100):
                    t0 = time.perf_counter()
                    m(xb, normalised=True)
                    samples.append((time.perf_counter() - t0) * 1000 / b)
            samples.sort()
            results.append({'threads': th, 'batch': b, 'msPerExcerpt': samples[len(samples) // 2], 'reps': len(samples)})
    print(json.dumps({'torch': torch.__version__, 'results': results}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check')
    c.add_argument('weights')
    c.add_argument('input')
    c.add_argument('n', type=int)
    t = sub.add_parser('time')
    t.add_argument('weights')
    t.add_argument('--batches', default='1,32,256')
    t.add_argument('--threads', default='1,2')
    t.add_argument('--budget', type=float, default=3.0)
    args = ap.parse_args()
    check(args) if args.cmd == 'check' else time_cmd(args)


if __name__ == '__main__':
    main()
