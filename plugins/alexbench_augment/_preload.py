"""Imported once by the augmentation pool's fork server (see :mod:`.workers`): the workers it forks
start with the augmenters imported and WordNet's index loaded, instead of loading them each.

WordNet's reader keeps its data files open and seeks in them; forked workers would share those
file offsets and read each other's synsets. So the server closes them after the warm-up, and
each worker opens its own on first use."""

from __future__ import annotations

from . import alex_fast, base, textattack_aug  # noqa: F401 - imported for the workers

try:
    alex_fast.SYNONYMS("warm")  # loads WordNet's index once, in the server
    from nltk.corpus import wordnet

    for handle in wordnet._data_file_map.values():
        handle.close()
    wordnet._data_file_map.clear()
except Exception:  # noqa: BLE001 - a missing resource is reported by the worker that needs it, with its own message
    pass
