import sys
from pathlib import Path

# helpers shared by test modules (kernel_cases.py) live beside the tests
sys.path.insert(0, str(Path(__file__).parent))
