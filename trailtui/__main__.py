"""`python -m trailtui` runs the same entry point as the `trailtui` command."""

from trailtui.cli import main

raise SystemExit(main())
