"""``python -m paper_repro``."""
import sys

from .pipeline.cli import main

sys.exit(main())
