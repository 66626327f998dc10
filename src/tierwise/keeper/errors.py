"""Keeper-specific errors and exit codes (range 10-19).

Every one is a :class:`tierwise.hot.errors.TierwiseError`, so the CLI renders the
breadcrumb (file, key, expected, fix) and exits with the code below.
``KEEPER_EXIT_CODES`` feeds docs/exit-codes.md next to ``tierwise.hot.errors.EXIT_CODES``.
"""

from __future__ import annotations

from tierwise.hot.errors import TierwiseError

EXIT_QUOTA_SUM = 10
EXIT_NEGATIVE_QUOTA = 11
EXIT_PHASE_MISSING_TIER = 12
EXIT_BAD_DURATION = 13
EXIT_UNKNOWN_TIER = 14
EXIT_BAD_SPEC = 15
EXIT_BAD_SCENARIO = 16
EXIT_BAD_CHECKS = 17
EXIT_MISSING_METRIC = 18

KEEPER_EXIT_CODES: dict[int, str] = {
    EXIT_QUOTA_SUM: "budget spec: the phase quotas do not add up to daily_budget_tokens",
    EXIT_NEGATIVE_QUOTA: "budget spec: a quota is negative",
    EXIT_PHASE_MISSING_TIER: "budget spec: a phase has no quota for a tier the other phases use",
    EXIT_BAD_DURATION: "an SLA or duration is not a duration (30s, 10m, 1h30m)",
    EXIT_UNKNOWN_TIER: "a scenario or --failure names a tier the plan does not have",
    EXIT_BAD_SPEC: "a budget spec or plan file has the wrong shape",
    EXIT_BAD_SCENARIO: "a failure scenario or --failure/--queue arguments have the wrong shape",
    EXIT_BAD_CHECKS: "the validation spec's checks: block is malformed",
    EXIT_MISSING_METRIC: "the metrics file lacks a metric a validation check needs",
}


class QuotaSumError(TierwiseError):
    exit_code = EXIT_QUOTA_SUM


class NegativeQuotaError(TierwiseError):
    exit_code = EXIT_NEGATIVE_QUOTA


class PhaseMissingTierError(TierwiseError):
    exit_code = EXIT_PHASE_MISSING_TIER


class DurationError(TierwiseError):
    exit_code = EXIT_BAD_DURATION


class UnknownTierError(TierwiseError):
    exit_code = EXIT_UNKNOWN_TIER


class SpecError(TierwiseError):
    exit_code = EXIT_BAD_SPEC


class ScenarioError(TierwiseError):
    exit_code = EXIT_BAD_SCENARIO


class ChecksError(TierwiseError):
    exit_code = EXIT_BAD_CHECKS


class MissingMetricError(TierwiseError):
    exit_code = EXIT_MISSING_METRIC
