"""The command line (`arrears`, `python worker.py`, `python starter.py`): the typer app in
`app`, one module per command or command group holding only its arguments and options."""

from arrears.cli.app import app, main

__all__ = ["app", "main"]
