"""Scores: metrics (metrics; the single-label ones that only count, on confusion tables: tables),
an explainer's statistics of a run (explainer_stats), paired significance (significance),
recomputing a run's metrics from its predictions (rescore) and SMM4H submission files and their scorer
(submission). Nothing here reads the results store: :mod:`alexbench.run.rescoring` hands in a
stored run's rows.
"""
