"""``python -m hebbjax`` is the ``hebbjax`` command."""

import sys

from hebbjax.cli import main

sys.exit(main())
