"""``python -m helpers``: the study's command line (see helpers/cli/commands.py)."""
from helpers.cli.commands import main

raise SystemExit(main())
