"""``python -m stream`` is the ``tollwatch`` command."""

import sys

from stream.cli import main

sys.exit(main())
