"""Team reports: the local reports' JSON, computed from the team server's rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from tierwise.ledger import reports
from tierwise.team import local, server


@contextmanager
def team_source() -> Iterator[tuple[Callable[[str, int | None, int | None], list[Sequence[Any]]], dict[str, Any]]]:
    """The team server as a ``source`` for :func:`tierwise.ledger.reports.report` (rows shaped
    as the local SQL returns them), and who is asking (``{"server": masked URL, "member"}``).
    A server error inside the block is one :class:`RemoteError`."""
    member = local.load_member()
    url = member["url"]
    pg = server.psycopg()
    remote = server.connect(url, statement_timeout_ms=120_000)
    try:
        def source(grp: str, since_ms: int | None, until_ms: int | None) -> list[Sequence[Any]]:
            rows = remote.execute("SELECT * FROM tierwise.report_rows(%s, %s, %s)", (grp, since_ms, until_ms)).fetchall()
            if grp == "bucket":
                return [(int(r[0]), *r[1:12]) for r in rows]
            return [(*r[0:14], None, None) for r in rows]

        yield source, {"server": server.mask(url), "member": member.get("member")}
    except pg.Error as exc:
        raise server.remote_error(exc, url, "reporting") from None
    finally:
        remote.close()


def team_report(group: str, *, since: date | None, until: date | None, tz_name: str,
                config: dict[str, Any] | None, platform: str) -> dict[str, Any]:
    with team_source() as (source, who):
        data = reports.report(None, group, since=since, until=until, tz_name=tz_name, config=config,
                              platform=platform, source=source)
    data["team"] = who
    return data
