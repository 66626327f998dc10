"""``tierwise budget note``: fill templates/budget-note.md from a simulation result."""

from __future__ import annotations

import argparse

from tierwise.output import add_json_option

DEFAULT_TEMPLATE = "templates/budget-note.md"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("note", help="write the five-line budget note from a result",
                       description="Fill the budget note (risk, effect, simulated_floor, alert_threshold, "
                                   "decision) from a simulation result, for capstone/budget-note.md.")
    p.add_argument("--result", required=True, metavar="RESULT", help="a simulation result (JSON from `tierwise budget simulate --out`)")
    p.add_argument("--template", default=DEFAULT_TEMPLATE,
                   help=f"template (default {DEFAULT_TEMPLATE}; the built-in one if that file is absent)")
    p.add_argument("--out", metavar="NOTE", help="write the note here (default: stdout)")
    add_json_option(p, "print the five fields as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from tierwise.keeper import note
    from tierwise.keeper.io import load_json, write_text
    from tierwise.output import print_json, say
    from tierwise.keeper.spec import read_text

    result = load_json(args.result, "simulation result")
    if args.template == DEFAULT_TEMPLATE and not os.path.exists(args.template):
        template = note.DEFAULT_TEMPLATE
    else:
        template = read_text(args.template)
    try:
        fields = note.note_fields(result)
    except (KeyError, TypeError, IndexError) as exc:
        from tierwise.hot.errors import InputError

        raise InputError(f"expected a result written by `tierwise budget simulate` (missing {exc})",
                         file=args.result, fix="simulate again and pass its --out file") from None
    text = note.render_note(template, fields)
    if args.json:
        print_json(fields)
    if args.out:
        write_text(args.out, text)
        say(f"budget note -> {args.out}")
    elif not args.json:
        print(text, end="")
    return 0
