#!/usr/bin/python3
"""Convert a PyTorch state dict of the Schlueter & Lehner singing-voice CNN into earshot's
weight-file format (docs/model.md: model.json + weights.bin).

The architecture is methods.md section 2 (the "ismir2015" model_log_0mean of the veracity paper):
an input BatchNorm1d over the 80 mel bands without affine part (its running mean/var ARE the
per-band normalisation statistics), conv1 3x3->64 with zero-mean kernels, conv2 3x3->32, max-pool
3x3, conv3 3x3->128, conv4 3x3->64, max-pool 3x3, dense 256, dense 64, dense 1, every conv/dense
followed by BatchNorm (eps 1e-4) and leaky ReLU 0.01 except the last. `SVDCNN` below is that
module written from the description; its parameter names are what this script expects. A state
dict with other names can be mapped with --rename (a JSON object {their_name: our_name}).

What the conversion does (and nothing more):
- conv kernels OIHW -> HWIO (earshot runs NHWC); conv1 is stored raw (earshot subtracts the
  3x3 mean at run time, as the reference does), so training can resume from the file;
- fc1 [256, 64*11*7] in PyTorch's (channel, time, band) flattening order -> an (11, 7, 64, 256)
  kernel, which is both the dense layer of the strided form and the (11, 7) convolution of the
  fully-convolutional form;
- dense kernels [out, in] -> [in, out];
- batch norms keep gamma/beta/running mean/running var as they are (nothing folded);
- bn0 running mean/var -> normalization {mean, std = sqrt(var + eps)} in model.json;
- missing conv/dense biases (bias=False layers) become zeros.

Usage: /usr/bin/python3 scripts/convert_pytorch.py model.pt OUT_DIR [--dtype float16]
       [--threshold 0.51] [--labels voice] [--id NAME] [--rename map.json] [--meta training.json]
"""
import argparse
import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = 'earshot-model'
FORMAT_VERSION = 1
ARCH_NAME = 'svd-cnn-ismir2015'

# Recorded in model.json: the front end of methods.md section 1, field for field as SVD_FRONTEND in
# src/frontend/config.ts (earshot validates it on load).
SVD_FRONTEND = {
    'sampleRate': 22050, 'nFft': 1024, 'window': 'hann', 'symmetric': True, 'hop': 315, 'center': False,
    'spectrum': 'magnitude', 'nMels': 80, 'fMin': 27.5, 'fMax': 8000, 'scale': 'htk', 'construction': 'svd',
    'norm': 'sum', 'nBinsUsed': 372, 'logFloor': 1e-7, 'excerptFrames': 115, 'padFrames': 57,
}


class SVDCNN(nn.Module):
    """The reference architecture (methods.md section 2). Input: (N, frames, bands) log-mel."""

    def __init__(self, frames=115, bands=80, filters=(64, 32, 128, 64), dense=(256, 64), eps=1e-4, alpha=0.01, dropout=0.5):
        super().__init__()
        self.frames, self.bands, self.alpha = frames, bands, alpha
        self.bn0 = nn.BatchNorm1d(bands, affine=False, eps=eps)
        cin = 1
        for i, c in enumerate(filters):
            setattr(self, f'conv{i + 1}', nn.Conv2d(cin, c, 3))
            setattr(self, f'bn{i + 1}', nn.BatchNorm2d(c, eps=eps))
            cin = c
        t, f = frames, bands
        t, f = t - 4, f - 4
        t, f = (t - 3) // 3 + 1, (f - 3) // 3 + 1
        t, f = t - 4, f - 4
        t, f = (t - 3) // 3 + 1, (f - 3) // 3 + 1
        self.pool2_shape = (cin, t, f)
        self.fc1 = nn.Linear(cin * t * f, dense[0])
        self.bn5 = nn.BatchNorm1d(dense[0], eps=eps)
        self.fc2 = nn.Linear(dense[0], dense[1])
        self.bn6 = nn.BatchNorm1d(dense[1], eps=eps)
        self.fc3 = nn.Linear(dense[1], 1)
        self.drop = nn.Dropout(dropout)

    def normalise(self, x):
        return self.bn0(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, x, acts=None, normalised=False):
        """Logits (N,) of raw log-mel excerpts (or of z-scored ones if `normalised`). `acts`, if a
        dict, receives the named activations earshot exposes (NCHW here)."""
        def keep(name, v):
            if acts is not None:
                acts[name] = v
            return v
        h = (x if normalised else self.normalise(x)).unsqueeze(1)
        w1 = self.conv1.weight - self.conv1.weight.mean(dim=(2, 3), keepdim=True)
        h = keep('conv1', F.leaky_relu(self.bn1(F.conv2d(h, w1, self.conv1.bias)), self.alpha))
        h = keep('conv2', F.leaky_relu(self.bn2(self.conv2(h)), self.alpha))
        h = keep('pool1', F.max_pool2d(h, 3))
        h = keep('conv3', F.leaky_relu(self.bn3(self.conv3(h)), self.alpha))
        h = keep('conv4', F.leaky_relu(self.bn4(self.conv4(h)), self.alpha))
        h = keep('pool2', F.max_pool2d(h, 3))
        h = h.flatten(1)
        h = keep('fc1', F.leaky_relu(self.bn5(self.fc1(h)), self.alpha))
        h = self.drop(h)
        h = keep('fc2', F.leaky_relu(self.bn6(self.fc2(h)), self.alpha))
        h = self.drop(h)
        return keep('logit', self.fc3(h)).squeeze(1)


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def state_dict_to_tensors(sd, frames=115, bands=80):
    """Our parameter names -> earshot tensors {name: float32 array}, plus the normalisation stats."""
    def get(name, shape_if_missing=None):
        if name in sd:
            return _np(sd[name])
        if shape_if_missing is not None:
            return np.zeros(shape_if_missing, np.float32)
        raise KeyError(f'state dict has no {name!r} (have: {", ".join(sorted(sd)[:12])}...)')

    out = {}
    eps = 1e-4
    filters = []
    for i in range(1, 5):
        w = get(f'conv{i}.weight')  # O, I, 3, 3
        if w.ndim != 4 or w.shape[2:] != (3, 3):
            raise ValueError(f'conv{i}.weight must be [out, in, 3, 3], got {list(w.shape)}')
        filters.append(w.shape[0])
        out[f'conv{i}.kernel'] = np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # HWIO
        out[f'conv{i}.bias'] = get(f'conv{i}.bias', (w.shape[0],))
        for ours, theirs in (('gamma', 'weight'), ('beta', 'bias'), ('mean', 'running_mean'), ('variance', 'running_var')):
            out[f'conv{i}.bn.{ours}'] = get(f'bn{i}.{theirs}')
    c4 = filters[3]
    w = get('fc1.weight')  # [d1, c4*t*f]
    d1 = w.shape[0]
    tf_ = w.shape[1] // c4
    t = (((frames - 4 - 3) // 3 + 1) - 4 - 3) // 3 + 1
    f = tf_ // t
    if c4 * t * f != w.shape[1]:
        raise ValueError(f'fc1.weight has {w.shape[1]} inputs, expected {c4}x{t}x(bands) for {frames} frames')
    out['fc1.kernel'] = np.ascontiguousarray(w.reshape(d1, c4, t, f).transpose(2, 3, 1, 0))
    out['fc1.bias'] = get('fc1.bias', (d1,))
    w2 = get('fc2.weight')
    out['fc2.kernel'] = np.ascontiguousarray(w2.T)
    out['fc2.bias'] = get('fc2.bias', (w2.shape[0],))
    w3 = get('fc3.weight')
    out['fc3.kernel'] = np.ascontiguousarray(w3.T)
    out['fc3.bias'] = get('fc3.bias', (w3.shape[0],))
    for layer, bn in (('fc1', 'bn5'), ('fc2', 'bn6')):
        for ours, theirs in (('gamma', 'weight'), ('beta', 'bias'), ('mean', 'running_mean'), ('variance', 'running_var')):
            out[f'{layer}.bn.{ours}'] = get(f'{bn}.{theirs}')
    normalization = None
    if 'bn0.running_mean' in sd:
        mean = get('bn0.running_mean').astype(np.float64)
        var = get('bn0.running_var').astype(np.float64)
        if mean.shape != (bands,):
            raise ValueError(f'bn0 has {mean.shape[0]} bands, expected {bands}')
        normalization = {'mean': [float(v) for v in mean], 'std': [math.sqrt(v + eps) for v in var]}
    arch = {
        'name': ARCH_NAME, 'frames': frames, 'bands': bands, 'convFilters': [int(c) for c in filters],
        'dense': [int(d1), int(w2.shape[0])], 'convKernel': 3, 'pool': 3, 'leakyReluAlpha': 0.01,
        'bnEpsilon': eps, 'dropout': 0.5, 'zeroMeanConv1': True,
    }
    return arch, out, normalization


# File order of the tensors (must equal svdTensorSpecs in src/model/svdcnn.ts).
def tensor_order():
    names = []
    bn = ['bn.gamma', 'bn.beta', 'bn.mean', 'bn.variance']
    for i in range(1, 5):
        names += [f'conv{i}.kernel', f'conv{i}.bias'] + [f'conv{i}.{b}' for b in bn]
    names += ['fc1.kernel', 'fc1.bias'] + [f'fc1.{b}' for b in bn]
    names += ['fc2.kernel', 'fc2.bias'] + [f'fc2.{b}' for b in bn]
    names += ['fc3.kernel', 'fc3.bias']
    return names


def write_weights(out_dir, arch, tensors, normalization, labels=('voice',), threshold=0.51, training=None,
                  dtype='float32', model_id=None, frontend=None):
    """Write model.json + weights.bin (atomically: temp files, then rename, binary first)."""
    if dtype not in ('float32', 'float16'):
        raise ValueError('dtype must be float32 or float16')
    np_dtype = np.dtype('<f4') if dtype == 'float32' else np.dtype('<f2')
    entries, chunks, offset = [], [], 0
    for name in tensor_order():
        a = np.asarray(tensors[name], np.float32)
        if not np.all(np.isfinite(a)):
            raise ValueError(f'tensor {name} holds non-finite values')
        b = a.astype(np_dtype).tobytes()
        pad = (-len(b)) % 4
        entries.append({'name': name, 'shape': [int(d) for d in a.shape], 'dtype': dtype, 'byteOffset': offset})
        chunks.append(b + b'\0' * pad)
        offset += len(b) + pad
    extra = set(tensors) - set(tensor_order())
    if extra:
        raise ValueError(f'unknown tensors: {sorted(extra)}')
    blob = b''.join(chunks)
    manifest = {'format': FORMAT, 'formatVersion': FORMAT_VERSION}
    if model_id:
        manifest['id'] = model_id
    manifest.update({
        'architecture': arch, 'frontend': frontend or SVD_FRONTEND, 'normalization': normalization,
        'labels': list(labels), 'threshold': threshold, 'training': training or {},
        'weights': {'file': 'weights.bin', 'byteLength': len(blob), 'crc32': '%08x' % (zlib.crc32(blob) & 0xffffffff), 'tensors': entries},
    })
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'.tmp-{os.getpid()}'
    with open(os.path.join(out_dir, 'weights.bin' + tmp), 'wb') as fh:
        fh.write(blob)
    with open(os.path.join(out_dir, 'model.json' + tmp), 'w') as fh:
        json.dump(manifest, fh, indent=1)
        fh.write('\n')
    os.replace(os.path.join(out_dir, 'weights.bin' + tmp), os.path.join(out_dir, 'weights.bin'))
    os.replace(os.path.join(out_dir, 'model.json' + tmp), os.path.join(out_dir, 'model.json'))
    return manifest


def load_state_dict(path):
    obj = torch.load(path, map_location='cpu')
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    for key in ('state_dict', 'model_state_dict', 'model'):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ValueError(f'{path}: not a state dict')
    return {k[7:] if k.startswith('module.') else k: v for k, v in obj.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('state_dict')
    ap.add_argument('out_dir')
    ap.add_argument('--dtype', default='float32', choices=['float32', 'float16'])
    ap.add_argument('--threshold', type=float, default=0.51)
    ap.add_argument('--labels', default='voice', help='comma-separated')
    ap.add_argument('--id', default=None)
    ap.add_argument('--frames', type=int, default=115)
    ap.add_argument('--bands', type=int, default=80)
    ap.add_argument('--rename', default=None, help='JSON file {their_name: our_name}')
    ap.add_argument('--meta', default=None, help='JSON file with training metadata for model.json')
    a = ap.parse_args(argv)
    sd = load_state_dict(a.state_dict)
    if a.rename:
        with open(a.rename) as fh:
            ren = json.load(fh)
        sd = {ren.get(k, k): v for k, v in sd.items()}
    arch, tensors, norm = state_dict_to_tensors(sd, a.frames, a.bands)
    training = {'convertedFrom': os.path.basename(a.state_dict)}
    if a.meta:
        with open(a.meta) as fh:
            training.update(json.load(fh))
    write_weights(a.out_dir, arch, tensors, norm, labels=a.labels.split(','), threshold=a.threshold,
                  training=training, dtype=a.dtype, model_id=a.id)
    n = sum(int(np.prod(t.shape)) for t in tensors.values())
    print(f'wrote {a.out_dir}/model.json + weights.bin ({n} parameters, {a.dtype})', file=sys.stderr)


if __name__ == '__main__':
    main()
