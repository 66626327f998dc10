"""Budget keeper: tiered daily token plans over incident phases, a
minute-by-minute failover simulation with token_health, emergency mode and
stepped recovery, daily drills and the anti-Goodhart validation gateway.

Cold code (CLI only). The simulation, the query evaluator and the gateway are
pure: inputs in, results out; files are read and written by the commands.
See docs/budget-keeper.md.
"""
