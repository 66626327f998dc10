"""Rich render functions (cold). Each takes a ``rich.console.Console`` (made by
``tierwise.output.console``) so tests render into a fixed-width console and
compare with golden files."""
