"""Optimizer updates in one pass over the parameters.

A model keeps all its weights in one flat buffer, so an optimizer step is a
handful of element-wise operations over a few tens of thousands of numbers.
Written as NumPy ufuncs, Adam is twelve passes, each a Python call and a trip
through memory, a visible share of a small model's batch ("Adam" in
benchmarks/results/kernel_design_measurements.md).  Here it is one loop that
reads each element once.  lstmcore.optimizers checks the
arguments (same dtype, C-contiguous, same size) and falls back to NumPy
otherwise; the arithmetic is Keras 3's, in the variable's precision.
"""
cimport numpy as cnp
from cython cimport floating
from libc.math cimport sqrt

cnp.import_array()


cdef void _adam(floating* variable, const floating* grad, floating* m, floating* v, Py_ssize_t n,
                floating alpha, floating beta_1, floating beta_2, floating epsilon) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating g, m_j, v_j
    cdef floating keep_1 = 1 - beta_1, keep_2 = 1 - beta_2
    for j in range(n):
        g = grad[j]
        m_j = m[j] + (g - m[j]) * keep_1
        v_j = v[j] + (g * g - v[j]) * keep_2
        m[j] = m_j
        v[j] = v_j
        variable[j] -= alpha * m_j / (<floating>sqrt(v_j) + epsilon)


def adam(cnp.ndarray variable, cnp.ndarray grad, cnp.ndarray m, cnp.ndarray v,
         double alpha, double beta_1, double beta_2, double epsilon):
    """m += (1 - beta_1)(g - m); v += (1 - beta_2)(g^2 - v); variable -= alpha m / (sqrt(v) + epsilon).

    Every array C-contiguous, of the variable's dtype (float32 or float64) and size; updated in place.
    """
    cdef Py_ssize_t n = variable.size
    if cnp.PyArray_TYPE(variable) == cnp.NPY_FLOAT32:
        with nogil:
            _adam(<float*>cnp.PyArray_DATA(variable), <const float*>cnp.PyArray_DATA(grad),
                  <float*>cnp.PyArray_DATA(m), <float*>cnp.PyArray_DATA(v), n,
                  <float>alpha, <float>beta_1, <float>beta_2, <float>epsilon)
    else:
        with nogil:
            _adam(<double*>cnp.PyArray_DATA(variable), <const double*>cnp.PyArray_DATA(grad),
                  <double*>cnp.PyArray_DATA(m), <double*>cnp.PyArray_DATA(v), n,
                  alpha, beta_1, beta_2, epsilon)
