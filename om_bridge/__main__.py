"""`python -m om_bridge` is the `om-bridge` command."""

import sys

from om_bridge.bridge.cli import main

sys.exit(main())
