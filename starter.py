"""Operations intake, as in temporalio/samples-python: `python starter.py FILE` starts one
case workflow per good row of a placement file. The same as `arrears import FILE`; the
logic is in `arrears.intake.importer`."""

import sys

from arrears.cli import main

if __name__ == "__main__":
    main(["import", *sys.argv[1:]])
