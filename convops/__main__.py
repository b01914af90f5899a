"""``python -m convops``: the same as the ``convops`` command."""

import sys

from .cli import main

sys.exit(main())
