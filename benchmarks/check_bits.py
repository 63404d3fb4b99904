"""Whether this CPU trains to the same float32 bits as the machine that wrote the reference.

The kernels compute every float32 result with correctly rounded IEEE operations in one order
(tests/test_kernel_same_bits.py checks that the avx2, avx512 and native variants and every
thread count agree on one CPU).  Nothing in that arithmetic is left to the CPU (no reciprocal
estimates, no BLAS for narrow inputs), so an Intel Xeon should give the bits an AMD EPYC gives.
This script checks it where a pytest cannot: it hashes the outputs, final states and gradients
of fixed problems (narrow inputs, their numbers made by integer arithmetic, so no random
generator's or libm's version can change them) on every SIMD variant here and compares them with
benchmarks/results/same_bits_reference.json.

    python benchmarks/check_bits.py            # compare; exit 1 when a hash differs
    python benchmarks/check_bits.py --write    # write the reference from this machine

.ci/run and benchmarks/device_avx512.sh run it and report; it becomes a test once a machine of
the other vendor has agreed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np

from lstmcore import ops
from lstmcore._native import dispatch

REFERENCE = Path(__file__).parent / "results" / "same_bits_reference.json"

# (batch, steps, features, units): batch 1 and 2 (their own k-splits), a batch cut unevenly by
# threads, the benchmark's dna shape at 40 steps, and the unit split (256 units)
PROBLEMS = [(1, 200, 4, 128), (2, 60, 1, 50), (7, 50, 4, 64), (64, 40, 4, 128), (3, 30, 4, 256)]


def _cpu_model() -> str:
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    return "{} (family {}, model {})".format(fields.get("model name", "?"), fields.get("cpu family", "?"),
                                            fields.get("model", "?"))


def _numbers(shape, salt, scale):
    """Floats in [-scale/2, scale/2) from a multiplicative hash of their index: exact float32."""
    index = np.arange(int(np.prod(shape)), dtype=np.uint64)
    bits = (index * np.uint64(0x9E3779B97F4A7C15) + np.uint64((salt * 0x632BE59BD9B4E019) % 2 ** 64)) >> np.uint64(40)
    return ((bits.astype(np.float32) / np.float32(2 ** 24) - np.float32(0.5)) * np.float32(scale)).reshape(shape)


def _problem(batch, steps, features, units):
    lengths = (np.arange(batch, dtype=np.int64) * 7919) % steps + 1 if batch > 2 else None
    return (_numbers((batch, steps, features), 1, 2.0), _numbers((features, 4 * units), 2, 0.8),
            _numbers((units, 4 * units), 3, 0.8), _numbers((4 * units,), 4, 0.2),
            _numbers((batch, steps, units), 5, 2.0), lengths)


def _digest(shape, threads) -> str:
    x, kernel, recurrent, bias, d_outputs, lengths = _problem(*shape)
    result = ops.lstm_forward(x, kernel, recurrent, bias, lengths=lengths, training=True, threads=threads)
    grads = ops.lstm_backward(result.cache, d_outputs, threads=threads)
    inference = ops.lstm_forward(x, kernel, recurrent, bias, lengths=lengths, threads=threads)
    digest = hashlib.sha256()
    for array in (*result[:3], inference.outputs, grads.d_x, grads.d_kernel, grads.d_recurrent_kernel,
                  grads.d_bias):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _hashes() -> dict:
    variants = [v for v in dispatch.supported_variants() if v != "baseline"]
    hashes = {}
    for shape in PROBLEMS:
        key = "B{}_T{}_D{}_H{}".format(*shape)
        for variant in variants:
            with dispatch.using(variant):
                for threads in (1, 2):
                    hashes.setdefault(key, set()).add(_digest(shape, threads))
    return {key: sorted(found) for key, found in hashes.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write the reference from this machine")
    args = parser.parse_args(argv)
    hashes = _hashes()
    machine = f"{_cpu_model()}; variants {', '.join(v for v in dispatch.supported_variants() if v != 'baseline')}"
    split = [key for key, found in hashes.items() if len(found) > 1]
    if split:
        print(f"variants or thread counts disagree on this machine ({machine}): {', '.join(split)}")
        return 1
    if args.write:
        REFERENCE.write_text(json.dumps({"machine": machine, "hashes": {k: v[0] for k, v in hashes.items()}},
                                        indent=1) + "\n")
        print(f"wrote {REFERENCE} ({machine})")
        return 0
    reference = json.loads(REFERENCE.read_text())
    differ = [key for key, found in hashes.items() if reference["hashes"].get(key) != found[0]]
    print(f"this machine: {machine}\nreference:    {reference['machine']}")
    for key, found in hashes.items():
        print(f"  {key}: {'same bits' if key not in differ else 'DIFFERENT: ' + found[0]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
