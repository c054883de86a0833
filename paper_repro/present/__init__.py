"""What a reader sees: tables (display), figures (plotting), kernel-free explorers (widgets), the scorecard and the
site's Sphinx extension, launch buttons and vendored JavaScript (scorecard, site). Imports only from ``core``."""
from . import display, plotting, scorecard, site, widgets

__all__ = ["display", "plotting", "scorecard", "site", "widgets"]
