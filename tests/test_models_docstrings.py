"""The runnable examples in the layer and model docstrings run."""
import doctest

import pytest

import lstmcore.layers.lstm
import lstmcore.layers.wrappers
import lstmcore.models


@pytest.mark.parametrize("module", [lstmcore.layers.lstm, lstmcore.layers.wrappers, lstmcore.models.sequential],
                         ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_lstm_docstring_states_equations_arguments_and_shapes():
    doc = lstmcore.layers.LSTM.__doc__
    for text in ("c_t = f_t * c_{t-1} + i_t * g_t", "h_t = o_t * tanh(c_t)", "unit_forget_bias: default True",
                 "Input shape", "Output shape", "Example"):
        assert text in doc
