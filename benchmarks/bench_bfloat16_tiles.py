"""lstmcore's bfloat16 inference with and without AMX tiles, and float32, in one process.

    python benchmarks/bench_bfloat16_tiles.py --configs dna big --threads 1 2

Prints one line per config and thread count: medians (ms) of float32, bfloat16 on the
vector kernel (vdpbf16ps) and bfloat16 on tiles, and the largest |tiles - vector| output
difference.  On a CPU without tiles the two bfloat16 columns are the same kernel.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_bfloat16 import _lstmcore_runner  # noqa: E402
from bench_lstm import CONFIGS, _median_seconds  # noqa: E402

import lstmcore  # noqa: E402
from lstmcore._native import dispatch  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["dna", "big"], choices=list(CONFIGS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1])
    args = parser.parse_args(argv)
    module = dispatch.active()
    print(f"tiles available: {module.bfloat16_amx()}; variant {dispatch.active_name()}")
    for config in args.configs:
        for threads in args.threads:
            lstmcore.set_num_threads(threads)
            float32 = _median_seconds(_lstmcore_runner(config, bfloat16=False)[0])[0]
            bf16 = _lstmcore_runner(config, bfloat16=True)[0]
            module._set_bfloat16_amx(False)
            vector, vector_out = _median_seconds(bf16)[0], bf16()
            module._set_bfloat16_amx(True)
            tiles, tiles_out = _median_seconds(bf16)[0], bf16()
            print(f"{config} {threads} thr: float32 {float32 * 1e3:.2f} ms, bfloat16 vector "
                  f"{vector * 1e3:.2f} ms, tiles {tiles * 1e3:.2f} ms; max |tiles - vector| "
                  f"{np.abs(tiles_out - vector_out).max():.1e}", flush=True)


if __name__ == "__main__":
    main()
