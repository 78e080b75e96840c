"""sora-mock's benchmarks: ratios and medians against baselines measured in the same run.

Run everything with ``bench/run.sh`` (or ``make bench``); see ``bench/README.md``.
"""
