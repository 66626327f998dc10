"""Subcommands of `tierwise budget`, one module each."""
