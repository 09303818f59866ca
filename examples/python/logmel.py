#!/usr/bin/env python3
"""earshot's compute core from Python: the log-mel spectrogram of a WAV file, computed by the
same build/earshot.wasm that Node and browsers run, loaded with the `wasmtime` package.

The core's ABI (docs/abi.md): numbers and pointers in, numbers out; the host owns all memory.
This host keeps a bump allocator above heapBase(), 16-byte aligned, grows the memory itself,
and calls the kernels in the order bindings/mel.ts does (MelFrontEndKernel): the dense mel
filterbank, its sparse form, the window, the FFT plan, then the fused front end melFrontEnd.
The front end is the singing-voice detector's (methods.md §1, src/frontend/config.ts
SVD_FRONTEND): mono 22 050 Hz, symmetric Hann 1024, hop 315, |rfft| of the first 372 bins,
80 HTK mel bands 27.5 Hz – 8 kHz (svd construction, each filter divided by its sum), ln(max(x, 1e-7)).

Usage: python logmel.py clip.wav [--wasm build/earshot.wasm] [--out logmel.f32]
Writes frames × 80 little-endian float32 (row-major by frame) to --out and prints the shape.
Needs: numpy, wasmtime (examples/python/install.sh).
"""
import argparse
import os
import sys
import wave

import numpy as np
import wasmtime

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FRONT_END = dict(sample_rate=22050, n_fft=1024, hop=315, n_mels=80, f_min=27.5, f_max=8000.0,
                 n_bins_used=372, log_floor=1e-7)
# codes of the ABI (assembly/stft.ts windowFill, assembly/mel.ts melFilterbankBuild)
HANN, SYMMETRIC = 0, 0
HTK, SVD_CONSTRUCTION, NORM_SUM = 0, 0, 1
MAGNITUDE = 0
PAGE = 65536


def read_wav_mono(path):
    """PCM WAV (8/16/24/32-bit int) → float32 mono (the mean of the channels), sample rate."""
    with wave.open(path, "rb") as w:
        ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise SystemExit(f"{path}: {8 * width}-bit samples are not supported by this example")
    x = x.reshape(-1, ch)
    # earshot's mixdown: a mono file unchanged; otherwise the mean, accumulated in float64
    mono = x[:, 0].copy() if ch == 1 else (x.astype(np.float64).sum(axis=1) * (1.0 / ch)).astype(np.float32)
    return mono, rate


class Core:
    """build/earshot.wasm in wasmtime, with a bump allocator above heapBase()."""

    def __init__(self, wasm_path):
        self.store = wasmtime.Store()
        module = wasmtime.Module.from_file(self.store.engine, wasm_path)
        linker = wasmtime.Linker(self.store.engine)

        def abort(msg, file, line, col):
            raise RuntimeError(f"earshot core aborted at line {line}:{col}")

        i32 = wasmtime.ValType.i32()
        linker.define_func("env", "abort", wasmtime.FuncType([i32, i32, i32, i32], []), abort)
        self.instance = linker.instantiate(self.store, module)
        self.ex = self.instance.exports(self.store)
        self.memory = self.ex["memory"]
        if self.call("abiVersion") != 1:
            raise SystemExit("this example speaks ABI version 1; the core reports another")
        self.top = (self.call("heapBase") + 15) & ~15

    def call(self, name, *args):
        return self.ex[name](self.store, *args)

    def alloc(self, nbytes):
        """16-byte aligned block; grows the memory (pages of 64 KiB) when needed. Never freed here."""
        p = self.top
        self.top = (self.top + max(nbytes, 16) + 15) & ~15
        have = self.memory.data_len(self.store)
        if self.top > have:
            self.memory.grow(self.store, (self.top - have + PAGE - 1) // PAGE)
        return p

    def view(self, ptr, dtype, count):
        """A numpy view of the memory (make a fresh one after any alloc: growing moves the buffer)."""
        buf = self.memory.get_buffer_ptr(self.store)
        base = np.ctypeslib.as_array(buf, shape=(self.memory.data_len(self.store),))
        return base[ptr:ptr + count * np.dtype(dtype).itemsize].view(dtype)


def log_mel(core, signal, fe=FRONT_END):
    n_fft, hop, n_mels, used = fe["n_fft"], fe["hop"], fe["n_mels"], fe["n_bins_used"]
    n_bins = n_fft // 2 + 1
    n_frames = core.call("melFrameCount", len(signal), n_fft, hop)
    if n_frames == 0:
        raise SystemExit(f"the clip has {len(signal)} samples, fewer than one frame of {n_fft}")
    fb = core.alloc(4 * n_mels * n_bins)
    core.call("melFilterbankBuild", float(fe["sample_rate"]), n_fft, n_mels, fe["f_min"], fe["f_max"], HTK, SVD_CONSTRUCTION, NORM_SUM, fb)
    nnz = core.call("melSparseCount", fb, n_mels, n_bins, used)
    spans = core.alloc(4 * 3 * n_mels)
    weights = core.alloc(4 * max(1, nnz))
    core.call("melSparsify", fb, n_mels, n_bins, used, spans, weights)
    win = core.alloc(4 * n_fft)
    core.call("windowFill", HANN, SYMMETRIC, n_fft, win)
    plan = core.alloc(core.call("fftPlanBytes", n_fft))
    core.call("fftPlanInit", n_fft, plan)
    scratch = core.alloc(core.call("fftScratchBytes", n_fft))
    row = core.alloc(core.call("melRowScratchBytes", used))
    sig = core.alloc(4 * len(signal))
    out = core.alloc(4 * n_frames * n_mels)
    core.view(sig, np.float32, len(signal))[:] = signal
    got = core.call("melFrontEnd", sig, len(signal), hop, win, n_fft, n_fft, used, MAGNITUDE, n_mels, spans, weights,
                    fe["log_floor"], 0, 0, out, row, plan, scratch)
    assert got == n_frames
    return core.view(out, np.float32, n_frames * n_mels).reshape(n_frames, n_mels).copy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wav")
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build", "earshot.wasm"))
    ap.add_argument("--out", help="write frames × 80 little-endian float32 here")
    a = ap.parse_args(argv)
    signal, rate = read_wav_mono(a.wav)
    if rate != FRONT_END["sample_rate"]:
        raise SystemExit(f"{a.wav} is at {rate} Hz; this example expects {FRONT_END['sample_rate']} Hz (resample it first, e.g. with sox)")
    core = Core(a.wasm)
    lm = log_mel(core, signal)
    if a.out:
        lm.astype("<f4").tofile(a.out)
    print(f"{a.wav}: {lm.shape[0]} frames × {lm.shape[1]} mel bands, min {lm.min():.4f}, max {lm.max():.4f}, mean {lm.mean():.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
