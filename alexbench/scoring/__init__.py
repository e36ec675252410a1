"""Scores: metrics (metrics), paired significance (significance), recomputing a stored run's
metrics (rescore) and SMM4H submission files and their scorer (submission).
"""
