"""``python -m paper_repro``."""
import sys

from .cli import main

sys.exit(main())
