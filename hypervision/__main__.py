"""``python -m hypervision`` is the ``hypervision`` command."""

from hypervision.cli import main

main()
