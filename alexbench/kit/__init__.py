"""The conformance kit's parts (its face is :mod:`alexbench.testing`): the contracts (contracts,
and their multi-label checks: multilabel), in-process plugins (inline) and the tiny tasks (tasks).
"""
