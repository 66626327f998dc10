"""The routing decision and everything around it (hot: imported by hooks).

- ``decide``: the pure decision (docs/routing.md);
- ``conditions``: deterministic matching of a condition's ``when`` against a request;
- ``overrides``: inline overrides parsed from a user prompt (§3.3);
- ``audit``: the §5.3 ``[ROUTE]`` lines.

Standard library only; nothing is imported here so that each hook pays only
for the module it uses.
"""
