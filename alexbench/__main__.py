"""``python -m alexbench``: the same as the ``alexbench`` command."""

from alexbench.cli import main

main()
