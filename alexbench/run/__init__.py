"""Executing runs: one run's stages (runner), where runs execute (executors), the results store
(store), run ids (runid), provenance (provenance), the dry run of a grid's explainers (dryrun) and a stored run rescored
or written as a submission (rescoring).
"""
