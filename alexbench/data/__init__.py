"""Posts in: loading a task's splits with line-precise errors (splits), then the augmenter chain
on the train split, with the host's guarantees (augment).
"""
