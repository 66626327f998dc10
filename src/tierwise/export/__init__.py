"""Exports of the ledger to other systems (cold): ``otel`` sends spans over OTLP/HTTP."""
