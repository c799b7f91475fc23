"""The visits benchmark (`python -m bench.visits`, in `make bench`): see bench/visits/load.py."""

import sys

from bench.visits.load import main

if __name__ == "__main__":
    sys.exit(main())
