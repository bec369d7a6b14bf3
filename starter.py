"""Entry point of operations intake: placement file -> one case workflow per row.

`arrears import FILE` runs this. The importer arrives with issue 5; until then the
command says so and exits with code 2.
"""

from __future__ import annotations

import sys


def main() -> None:
    from arrears.cli import main as cli_main

    cli_main(["import", *sys.argv[1:]])


if __name__ == "__main__":
    main()
