"""`python -m demos ...`: see demos/cli.py."""

import sys

from demos.cli import main

sys.exit(main())
