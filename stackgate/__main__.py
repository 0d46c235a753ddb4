"""Entry point of `python -m stackgate`."""

import sys

from .cli import main

sys.exit(main())
