"""One package per paper: the experiments behind each chapter (configs, runs, figures, claims, reading)."""
