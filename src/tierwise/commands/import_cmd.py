"""``tierwise import claude|qwen``: backfill the ledger from the clients' transcripts.

Incremental (a re-run reads only new bytes). A progress bar on stderr when it
is a terminal. The summary (files, lines, records added, duplicates skipped,
bad lines) on stdout, as JSON with ``--json``.
"""

from __future__ import annotations

import argparse

from tierwise.clients import CLIENTS
from tierwise.commands import needs_subcommand
from tierwise.ledger.importers import importer_for
from tierwise.output import add_json_option, add_project_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "import",
        help="backfill the ledger from Claude Code, Qwen Code or Codex CLI transcripts",
        description="Read the clients' transcripts into the ledger (incremental: only new bytes are read). "
        "Requests are deduplicated by message id + request id, as ccusage does.",
    )
    clients = parser.add_subparsers(dest="client", metavar="CLIENT")
    for name in CLIENTS:
        parts = importer_for(name)
        p = clients.add_parser(name, help=parts.HELP, description=parts.DESCRIPTION)
        parts.add_arguments(p)
        add_project_option(p, "project whose routing config maps models to tiers")
        add_json_option(p, "print the summary as JSON")
        p.set_defaults(func=run)
    needs_subcommand(parser)


def run(args: argparse.Namespace) -> int:
    from tierwise.ledger import importers
    from tierwise.ledger.cli_support import load_config, open_ledger, platform_key, progress_enabled
    from tierwise.output import print_json

    client = args.client
    root = importers.importer_for(client).roots(args)
    config = load_config(args.project, platform_key(client))
    conn = open_ledger()
    try:
        if progress_enabled() and not args.json:
            from rich.progress import Progress

            from tierwise.output import console

            with Progress(console=console(stderr=True), transient=True) as bar:
                task = bar.add_task(f"importing {client} transcripts", total=None)

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                summary = importers.run_import(client, root, conn=conn, config=config, progress=tick)
        else:
            summary = importers.run_import(client, root, conn=conn, config=config)
    finally:
        conn.close()
    data = summary.as_dict()
    if args.json:
        print_json(data)
    else:
        if len(data["roots"]) > 1:
            print(f"{data['client']} directories: {', '.join(data['roots'])}")
        print(
            f"{data['client']}: {data['files']} files ({data['files_read']} with new bytes, "
            f"{data['bytes_read']:,} bytes), {data['lines']:,} lines, {data['records_added']:,} records added, "
            f"{data['duplicates_skipped']:,} duplicates skipped, {data['bad_lines']} bad lines"
            + (f", {data['partial_lines']} unfinished last lines left for the next run" if data["partial_lines"] else "")
        )
        if data.get("reasoning_output_tokens"):
            print(f"  {data['reasoning_output_tokens']:,} of the output tokens were reasoning (counted as output, "
                  "as they are billed)")
        if data["provisional_replaced"]:
            print(f"  {data['provisional_replaced']} provisional rows (a hook's figure from the client's payload) "
                  "replaced by their transcript rows")
        if data["provisional_remaining"]:
            print(f"  {data['provisional_remaining']} provisional rows still wait for their transcript lines "
                  "(`tierwise report session --json` lists them)")
        for example in data["bad_examples"]:
            print(f"  bad line: {example}")
        for item in data["unreadable_files"]:
            print(f"  unreadable: {item}")
    return 0
