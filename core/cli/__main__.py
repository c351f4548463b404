import sys

from dyadlab.core.cli.main import main

sys.exit(main())
