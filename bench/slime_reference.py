#!/usr/bin/python3
"""The Python reference run for bench/slime.ts (issue 5 item 10): one SLIME explanation done the
way the reference code does it — NumPy sampling of N_s bit rows (row 0 all ones), N_s perturbed
excerpts built with NumPy, N_s forward passes of the singing-voice CNN in PyTorch on the CPU,
sklearn's Euclidean pairwise distances, LIME's kernel and sklearn's Ridge(alpha=1) with
sample_weight. Temporal segmentation (d = 10, remainder to the last segment), `zero` content.

  make-model OUT_DIR [--seed S]   a seeded PyTorch SVD CNN (scripts/convert_pytorch.py's module,
                                  perturbed batch-norm statistics), saved as OUT_DIR/model.pt and
                                  converted to earshot's weight format in OUT_DIR
  explain MODEL.pt EXCERPT.f32 [--samples N] [--seed S] [--batch B]
                                  prints one JSON line: weights, intercept, score, top-3, timings
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

T, F, D = 115, 80, 10


def make_model(out_dir, seed):
    torch.manual_seed(seed)
    m = cp.SVDCNN()
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) and mod.affine:
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.8, 1.2)
                mod.bias.normal_(0, 0.1)
    os.makedirs(out_dir, exist_ok=True)
    pt = os.path.join(out_dir, 'model.pt')
    torch.save(m.state_dict(), pt)
    cp.main([pt, out_dir, '--id', f'bench-svd-cnn-torch-{seed}'])


def explain(model_pt, excerpt_path, n_samples, seed, batch):
    t_start = time.perf_counter()
    m = cp.SVDCNN()
    m.load_state_dict(torch.load(model_pt))
    m.eval()
    x = np.fromfile(excerpt_path, dtype='<f4').reshape(T, F)
    t_model = time.perf_counter()

    rng = np.random.RandomState(seed)
    data = rng.randint(0, 2, n_samples * D).reshape((n_samples, D))
    data[0, :] = 1
    hop = T // D
    starts = [i * hop for i in range(D)]
    ends = starts[1:] + [T]
    preds = np.empty(n_samples)
    t_pass = 0.0
    with torch.no_grad():
        for s in range(0, n_samples, batch):
            rows = data[s:s + batch]
            b = np.repeat(x[None], len(rows), axis=0)
            for j in range(D):
                off = rows[:, j] == 0
                b[off, starts[j]:ends[j], :] = 0.0  # 'zero' content
            t0 = time.perf_counter()
            logits = m(torch.from_numpy(b), normalised=True)
            preds[s:s + len(rows)] = torch.sigmoid(logits).numpy()
            t_pass += time.perf_counter() - t0
    t_fit0 = time.perf_counter()
    from sklearn.linear_model import Ridge
    from sklearn.metrics import pairwise_distances
    dist = pairwise_distances(data, data[0].reshape(1, -1), metric='euclidean').ravel()
    w = np.sqrt(np.exp(-(dist ** 2) / 0.25 ** 2))
    r = Ridge(alpha=1, fit_intercept=True).fit(data, preds, sample_weight=w)
    score = r.score(data, preds, sample_weight=w)
    t_end = time.perf_counter()
    order = sorted(range(D), key=lambda j: abs(r.coef_[j]), reverse=True)
    top3 = [j for j in order if r.coef_[j] > 0][:3]
    print(json.dumps(dict(
        numSamples=n_samples, seed=seed, prediction=float(preds[0]), weights=r.coef_.tolist(),
        intercept=float(r.intercept_), score=float(score), top3=top3,
        torch=torch.__version__, threads=torch.get_num_threads(),
        timings=dict(modelLoadMs=(t_model - t_start) * 1e3, explainMs=(t_end - t_model) * 1e3,
                     forwardMs=t_pass * 1e3, fitMs=(t_end - t_fit0) * 1e3))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('make-model')
    a.add_argument('out_dir')
    a.add_argument('--seed', type=int, default=1)
    b = sub.add_parser('explain')
    b.add_argument('model_pt')
    b.add_argument('excerpt')
    b.add_argument('--samples', type=int, default=70000)
    b.add_argument('--seed', type=int, default=0)
    b.add_argument('--batch', type=int, default=256)
    args = ap.parse_args()
    if args.cmd == 'make-model':
        make_model(args.out_dir, args.seed)
    else:
        explain(args.model_pt, args.excerpt, args.samples, args.seed, args.batch)


if __name__ == '__main__':
    main()
