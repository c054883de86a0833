"""One module per paper: the experiments behind each chapter (configs, runs, figures)."""
