"""`python -m streams.cli` runs the `cpis` command."""

import sys

from streams.cli.main import main

sys.exit(main())
