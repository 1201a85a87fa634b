"""``python -m helpers``: the study's command line (see helpers/cli.py)."""
from helpers.cli import main

raise SystemExit(main())
