"""``python -m dyadlab.trainer`` (and ``torchrun ... -m dyadlab.trainer``): see ``dyadlab.trainer.cli``."""

import sys

from dyadlab.trainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
