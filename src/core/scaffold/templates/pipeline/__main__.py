"""``python -m pipeline``: run the training pipeline (options: python -m pipeline --help)."""
import sys

from pipeline.run import main

sys.exit(main())
