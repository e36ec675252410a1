"""Scores: metrics (metrics; the single-label ones that only count, on confusion tables: tables),
an explainer's statistics of a run (explainer_stats), paired significance (significance),
recomputing a stored run's metrics (rescore) and SMM4H submission files and their scorer
(submission).
"""
