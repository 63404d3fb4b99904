"""`python -m lstmcore ...` runs the `lstmcore` command."""
import sys

from .cli import main

sys.exit(main())
