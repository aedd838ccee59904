"""Argument parsing, config, exit codes: the only place that prints or exits."""
