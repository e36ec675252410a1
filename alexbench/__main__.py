"""``python -m alexbench``: the same as the ``alexbench`` command."""

from .cli import main

main()
