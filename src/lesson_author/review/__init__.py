"""Reviews: merging deterministic and reviewer findings, verdicts, and the review documents."""
