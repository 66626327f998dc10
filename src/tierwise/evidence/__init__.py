"""Evidence for routing: tier evals, outcomes, and the route confusion review.

- :mod:`.jsonl`     the JSONL formats (eval results, outcomes): parse + validate, one
                    :class:`Problem` per bad line (file, line, key, fix)
- :mod:`.costs`     prices per tier and the cost of a token count; seed 002's cost table
- :mod:`.recommend` pass rates per tier, recommended minimum and preferred (pure)
- :mod:`.review`    route confusion matrix, false-easy/false-hard, outcome veto (pure)
- :mod:`.apply`     rewrite a skill's model block in place, every other byte kept
- :mod:`.store`     the ``evidence`` tables in the ledger database
- :mod:`.runner`    the runner protocol for ``tierwise eval run``
- :mod:`.render`    rich tables for the CLI

Everything here is cold (CLI only). tierwise never calls a model here: a user's
eval runner does, and tierwise records and reads what it reports.
"""

# How far (absolute, 0.02 = 2 points) a success rate may fall below the
# all-strong baseline before `tierwise review` vetoes the savings.
DEFAULT_TOLERANCE = 0.02
