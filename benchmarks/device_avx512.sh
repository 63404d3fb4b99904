#!/bin/bash
# The AVX-512 server measurements of issue 21, in one call of the device machine (16 cores,
# no network, a python3 with numpy, scipy, Cython and torch but no lstmcore): build in place
# with -march=native, then the bench table at 1 and 2 threads, the bfloat16 table, and the
# thread scaling of dna256, dna and big.  Every file lands in $OUT as soon as its step ends,
# so a step cut short by the call's limit loses only itself.
#
#   bash benchmarks/device_avx512.sh            (on the device machine, from the repository root)
#   PLAN=tiles bash benchmarks/device_avx512.sh (the follow-up: AMX tiles tested and timed, float32 at 1 thread)
#   PLAN=bounds bash benchmarks/device_avx512.sh (the product, the cell and the read rate alone, as
#                                                 bounds_amd_zen4.md, and bench_products.py's tables of
#                                                 micro-kernel against sgemm; for the next session with
#                                                 the machine)
#   SMOKE=1 OUT=/tmp/out bash benchmarks/device_avx512.sh   (here: one tiny cell of each step)
set -u
OUT=${OUT:?set OUT to the folder that receives the results}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
LOG=$OUT/log.txt
PY=${PYTHON:-python3}

say() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$LOG"; }

# step NAME SECONDS COMMAND...: run one step under a time limit, its output into the log
step() {
    local name=$1 limit=$2
    shift 2
    say "$name: $*"
    timeout "$limit" "$@" >>"$LOG" 2>&1
    say "$name: exit $?"
}

say "commit $(git rev-parse --short HEAD 2>/dev/null)"
lscpu >"$OUT/lscpu.txt"
say "$(grep -E 'Model name|^CPU\(s\)|Thread|Socket|L2|L3' "$OUT/lscpu.txt" | tr -s ' ' | tr '\n' ';')"
say "$(grep -o -w -E 'avx512f|avx512_bf16|amx_bf16|avx512_fp16' "$OUT/lscpu.txt" | sort -u | tr '\n' ' ')"
say "$($PY -c 'import sys, numpy, scipy, torch; print(sys.version.split()[0], numpy.__version__, scipy.__version__, torch.__version__)')"

start=$(date +%s)
LSTMCORE_ARCH_FLAGS=-march=native $PY setup.py -q build_ext --inplace >"$OUT/build.log" 2>&1 \
    || { say "build failed"; tail -20 "$OUT/build.log"; exit 1; }
say "built in $(( $(date +%s) - start )) s"
$PY -c 'import lstmcore; lstmcore.show_config()' 2>&1 | tee -a "$LOG"
# the float32 bits of an AMD EPYC's (benchmarks/results/same_bits_reference.json) here too?
step bits 60 $PY benchmarks/check_bits.py

if [ "${PLAN:-tables}" = bounds ]; then
    # the parts alone (benchmarks/native/), as bounds_amd_zen4.md measured them on AMD: what binds
    # each one-thread figure on this CPU, since the device machine has no perf
    NATIVE="-O3 -march=native -fno-math-errno -fno-trapping-math -Ilstmcore/_native"
    gcc -O2 -mavx512f -mfma benchmarks/native/stream_read.c -o /tmp/stream_read \
        && gcc -O2 benchmarks/native/fma_peak.c -o /tmp/fma_peak \
        && gcc $NATIVE benchmarks/native/packed_product.c -o /tmp/packed_product \
        && gcc $NATIVE benchmarks/native/cell_passes.c -o /tmp/cell_passes -lm || { say "harness build failed"; exit 1; }
    step "fma peak" 20 /tmp/fma_peak      # the products' ceiling: their GFLOP/s read against it
    step read 30 /tmp/stream_read 16 128 256 512 4096
    for shape in "128 1" "64 1" "256 1" "50 32" "64 3" "64 4" "128 64" "512 64"; do   # 3, 4: four-panel tiles
        step "product $shape" 20 /tmp/packed_product $shape
    done
    for shape in "50 32" "64 4" "128 1" "128 64"; do
        step "cell $shape" 20 /tmp/cell_passes $shape
    done
    # whether OpenBLAS's AVX-512 sgemm or the packed micro-kernel is faster at each recurrent,
    # projection and weight-gradient shape here (lstm_gemm.h takes the micro-kernel for the input
    # projection on AMD only, until this table says so for Intel)
    step products 120 $PY benchmarks/bench_products.py --no-write
    say "done"
    exit 0
fi

if [ "${PLAN:-tables}" = tiles ]; then
    # the follow-up: the AMX tiles tested and timed, and float32 inference at 1 thread (buffers on lines)
    step tests 60 $PY -m pytest -q -p no:cacheprovider tests/test_kernel_bfloat16_amx.py tests/test_kernel_bfloat16.py \
        -k "not predict and not per_thread"
    step tiles 60 $PY benchmarks/bench_bfloat16_tiles.py --configs dna big --threads 1 2
    step bfloat16 60 $PY benchmarks/bench_bfloat16.py --configs single dna big --threads 1 \
        --output "$OUT/bench_bfloat16_intel_tiles.md"
    step float32 60 $PY benchmarks/bench_lstm.py --configs dna dna256 single --modes inference --threads 1 \
        --output "$OUT/bench_lstm_intel_lines.md"
    step big 40 $PY benchmarks/bench_lstm.py --configs big --modes inference --threads 1 2 \
        --output "$OUT/bench_lstm_intel_big.md"
    say "done"
    exit 0
fi

if [ "${SMOKE:-0}" = 1 ]; then
    table=(--configs seed --modes inference --threads 1)
    bf16=(--configs seed --threads 1)
    dna256=(--configs seed --modes inference --threads 1 2)
    wide=(--configs seed --modes training --threads 2)
    rounds=1
else
    table=()
    bf16=(--configs single big)
    dna256=(--configs dna256 --threads 1 2 4 8 16)
    wide=(--configs dna big --threads 4 8 16)
    rounds=2
fi
step table 300 $PY benchmarks/bench_lstm.py "${table[@]}" --rounds $rounds --output "$OUT/bench_lstm_intel.md"
step bfloat16 90 $PY benchmarks/bench_bfloat16.py "${bf16[@]}" --output "$OUT/bench_bfloat16_intel.md"
step scaling_dna256 150 $PY benchmarks/bench_lstm.py "${dna256[@]}" --output "$OUT/scaling_dna256.md"
step scaling_dna_big 150 $PY benchmarks/bench_lstm.py "${wide[@]}" --output "$OUT/scaling_dna_big.md"
say "done"
