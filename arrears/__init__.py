"""Arrears: the command line, configuration, logging and the embedded stack.

The collections rules live in `domain/`; this package is the plumbing around them.
"""
