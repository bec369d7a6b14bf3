"""A worker, as in temporalio/samples-python: `python worker.py` runs the case workflows and
their activities on the configured task queue until Ctrl-C. The same as `arrears worker`;
the logic is in `arrears.workers`."""

import sys

from arrears.cli import main

if __name__ == "__main__":
    main(["worker", *sys.argv[1:]])
