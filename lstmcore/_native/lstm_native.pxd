# cython: language_level=3
"""The native kernels' C signatures, as the .h files in this folder define them.

lstm_kernels.pxi (compiled once per CPU variant) cimports these; the headers
carry each kernel's design note.  Every function here runs without the GIL.
"""
from libc.stdint cimport int64_t

cdef extern from "lstm_cell.h" nogil:
    void lc_cell_forward_f(int W, int S, float* z, const float* bias, const float* c_prev,
                           float* c_out, float* h_out, float* y)
    void lc_cell_forward_d(int W, int S, double* z, const double* bias, const double* c_prev,
                           double* c_out, double* h_out, double* y)
    void lc_cell_backward_f(int W, int S, float* z, const float* c, const float* c_prev,
                            const float* dh, float* dc)
    void lc_cell_backward_d(int W, int S, double* z, const double* c, const double* c_prev,
                            const double* dh, double* dc)
    void lc_add_f(int H, float* dst, const float* src)
    void lc_add_d(int H, double* dst, const double* src)

cdef extern from "lstm_gemm.h" nogil:
    size_t lc_packed_size(int K, int N)
    void lc_pack_f(int K, int N, const float* B, int ldb, int transpose, float* P)
    void lc_gemm_packed_f(int M, int K, int N, const float* A, int lda, const float* P,
                          float* C, int ldc, int accumulate, int splits)
    void lc_gemm_packed_alone_f(int M, int K, int N, const float* A, int lda, const float* P,
                                float* C, int ldc, int accumulate, int splits)
    int lc_k_splits(long long batch)
    int LC_HAVE_AVX2
    int LC_HAVE_AVX512
    int LC_OWN_PROJECTION, LC_OWN_INPUT_GRADIENT, LC_OWN_WIDE_WEIGHT_GRADIENT
    long lc_own_product_calls[3]
    void lc_count_own_product(int kind)
    int lc_own_large_products()
    void lc_set_large_products(int choice)
    void lc_project_packed_f(int M, int K, int N, const float* A, const float* P, float* C)

cdef extern from "lstm_gemm_tn.h" nogil:
    int LC_HAVE_GEMM_TN, LC_TN_MIN_M, LC_TN_MAX_N
    int lc_gemm_tn_f(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                      float* C, int ldc, int accumulate)

cdef extern from "lstm_gemm_bf16.h" nogil:
    int LC_BF16_OFF, LC_BF16_EMULATED, LC_BF16_NATIVE, LC_BF16_MAX_K
    size_t lc_packed_size_bf16(int K, int N)
    void lc_pack_bf16(int K, int N, const float* B, int ldb, int transpose, unsigned short* P)
    void lc_pack_bf16_emulated(int K, int N, const float* B, int ldb, int transpose, float* P)
    void lc_gemm_packed_bf16(int mode, int M, int K, int N, const float* A, int lda, const void* P,
                             float* C, int ldc, int accumulate, int splits)
    void lc_gemm_packed_bf16_alone(int mode, int M, int K, int N, const float* A, int lda, const void* P,
                                   float* C, int ldc, int accumulate, int splits)
    int lc_bf16_native_available()
    float lc_bf16_round(float x)

cdef extern from "lstm_gemm_amx.h" nogil:
    int LC_HAVE_AMX
    int lc_amx_enable()
    int lc_amx_set(int on)

cdef extern from "lstm_narrow_inputs.h" nogil:
    void lc_project_narrow_f(Py_ssize_t rows, int G, int N, int D, const float* x,
                             const float* kernel, float* out)
    void lc_project_narrow_d(Py_ssize_t rows, int G, int N, int D, const double* x,
                             const double* kernel, double* out)
    void lc_gemm_packed_narrow_f(int M, int K, int N, int G, const float* A, int lda, const float* P,
                                 float* C, const float* X, int D, const float* kernel, int splits)
    void lc_gemm_packed_narrow_alone_f(int M, int K, int N, int G, const float* A, int lda, const float* P,
                                       float* C, const float* X, int D, const float* kernel, int splits)
    void lc_input_gradients_f(Py_ssize_t rows, int G, int D, const float* gates, const float* x,
                              const float* kernel, float* dx, float* d_kernel, float* d_bias)
    void lc_input_gradients_d(Py_ssize_t rows, int G, int D, const double* gates, const double* x,
                              const double* kernel, double* dx, double* d_kernel, double* d_bias)

cdef extern from "lstm_units.h" nogil:
    ctypedef struct lc_unit_job:
        int64_t B, T, H, ldy
        int reverse, training, threads
        int bf16
        const int64_t* order
        const int64_t* lengths
        const float* bias
        const float* packed
        float* y
        float* gates
        float* hs
        float* cs
        const float* h0
        const float* c0
        float* dh
        float* dc
        const float* x_steps
        const float* kernel
        int D
        int skip_step0_product
    void lc_forward_units_f(const lc_unit_job* job, int64_t s0, int64_t s1)
    void lc_settle_units_f(const lc_unit_job* job)
    void lc_backward_units_f(const lc_unit_job* job, int64_t S)
    int LC_TEAM_MEASURE, LC_TEAM_YES, LC_TEAM_NO
    void lc_set_team_policy(int policy)
    double lc_team_round_trip_ns(int rounds)

cdef extern from "cpu_features.h" nogil:
    int LC_FEATURE_COUNT
    const char* lc_feature_names[]
    int lc_cpu_has(int feature)
    int lc_built_for(int feature)

cdef extern from *:
    """
    #ifndef LC_VARIANT
    #define LC_VARIANT "unnamed"
    #endif
    """
    const char* LC_VARIANT

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define LC_OPENMP 1
    #else
    #define LC_OPENMP 0
    #endif
    """
    int LC_OPENMP
