"""Lambda entry points: parse, call the pipeline, report batch failures. Nothing else."""
