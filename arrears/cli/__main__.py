"""`python -m arrears.cli`: the same as the `arrears` console script."""

from arrears.cli.app import main

main()
