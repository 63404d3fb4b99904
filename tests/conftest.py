import sys
from pathlib import Path

# helpers shared by test modules (kernel_cases.py) live beside the tests
sys.path.insert(0, str(Path(__file__).parent))


import pytest  # noqa: E402

from lstmcore.testing import kernel_variants, using_kernel  # noqa: E402


@pytest.fixture(params=kernel_variants())
def kernel_variant(request):
    """Parametrizes a test over every kernel variant this CPU runs, each in use for the test."""
    with using_kernel(request.param):
        yield request.param
