"""Executing runs: one run's stages (runner), where runs execute (executors), the results store
(store), run ids (runid), provenance (provenance) and the dry run of a grid's explainers (dryrun).
"""
