"""`ecs-watchdog`: the watchdog's command line, calling the same code the Lambda functions run.

Subcommands:
  demo                  replay the seed incidents under every policy; show what people would be told
  classify [FILE|-]     classify stopped-task events given as JSON lines (contract: docs/cli.md)
  replay [SCENARIO...]  replay scenarios offline, or captured events with --events (docs/replay.md)
  restore               undo the watchdog's last action on a service (docs/containment.md)
  diagnose              run the read-only probes against one service (docs/diagnose.md)
  preflight [FILE]      check a revision before ECS starts a task of it; exit 1 on a fail (docs/preflight.md)
  render-alert          the Slack blocks and email of a stored transition or a scenario moment
  bench [--smoke]       measure the handler on moto: per-event cost, cold start, storm, containment, cost
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from ecs_watchdog.events import MalformedEvent


def classify_lines(lines: TextIO, out: TextIO) -> int:
    """Classify each input (a JSON document, a describe-tasks task, a pasted stop reason; blank lines
    skipped); one JSON line out per input, in order. Exit status 1 if any input was malformed."""
    from ecs_watchdog.classify import classify_envelope
    from ecs_watchdog.commands.classify_input import read_inputs

    malformed = False
    for item in read_inputs(lines.read()):
        result: dict[str, object]
        if item.raw is None:
            result, malformed = {"error": item.error, "line": item.line}, True
        else:
            try:
                result = classify_envelope(item.raw).model_dump(mode="json")
            except MalformedEvent as error:
                result, malformed = {"error": str(error), "line": item.line}, True
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if malformed else 0


def _classify(args: argparse.Namespace) -> int:
    if args.file == "-":
        return classify_lines(sys.stdin, sys.stdout)
    try:
        with open(args.file, encoding="utf-8") as handle:
            return classify_lines(handle, sys.stdout)
    except OSError as error:
        print(f"ecs-watchdog classify: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2


def _quiet_lambda_tooling() -> None:
    # The handler's INFO logs would bury what these commands print for people (its metric lines,
    # printed to stdout as in Lambda, are dropped by the replay adapter).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def _demo(args: argparse.Namespace) -> int:
    _quiet_lambda_tooling()
    from ecs_watchdog.replay import demo

    return demo.run(sys.stdout)


def _replay(args: argparse.Namespace) -> int:
    _quiet_lambda_tooling()
    from ecs_watchdog.replay.command import run_replay

    return run_replay(args)


def _render_alert(args: argparse.Namespace) -> int:
    _quiet_lambda_tooling()
    from ecs_watchdog.replay.render_alert import run_render_alert

    return run_render_alert(args, sys.stdout, sys.stderr)


def _bench(args: argparse.Namespace) -> int:
    # INFO logs are counted (log bytes are part of the cost), then discarded, never printed.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-watchdog")  # as in Lambda: child loggers included
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    from ecs_watchdog.replay import bench
    from ecs_watchdog.replay.progress import progress, wanted

    with progress(len(bench.PHASES), "bench", show=wanted(sys.stdout)) as shown:  # phase i of n, events, rate
        report = bench.run(smoke=args.smoke, shown=shown)
    print(bench.table(report))
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(f"\nJSON report: {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecs-watchdog", description="Event-driven watchdog for Amazon ECS.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (anywhere on the line)")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="replay a seed incident locally and print what people would be sent")
    demo.set_defaults(run=_demo)

    classify = commands.add_parser(
        "classify", help="classify stopped-task events (JSON lines: EventBridge envelopes or their detail)"
    )
    classify.add_argument("file", nargs="?", default="-", help="JSON-lines file, or - for standard input (default)")
    classify.set_defaults(run=_classify)

    replay = commands.add_parser("replay", help="replay incident scenarios offline, or captured events (--events)")
    try:
        from ecs_watchdog.replay.command import add_replay_arguments
    except ModuleNotFoundError as error:  # a plain `pip install`: --help still works, the command says why not
        _needs_local_extra(replay, error)
    else:
        add_replay_arguments(replay)
        replay.set_defaults(run=_replay)

    from ecs_watchdog.commands.restore import add_restore_arguments, run_restore

    restore = commands.add_parser("restore", help="undo the watchdog's last action on a service (docs/containment.md)")
    add_restore_arguments(restore)
    restore.set_defaults(run=run_restore)
    _add_diagnose(commands)
    _add_preflight(commands)
    from ecs_watchdog.replay.render_alert import add_render_alert_arguments

    render_alert = commands.add_parser(
        "render-alert", help="render the Slack blocks and email of a stored transition or a scenario moment"
    )
    add_render_alert_arguments(render_alert)
    render_alert.set_defaults(run=_render_alert)
    bench = commands.add_parser("bench", help="benchmark the real handler on moto; print a table, write JSON")
    bench.add_argument("--smoke", action="store_true", help="tiny sizes: checks the benchmark runs (seconds)")
    bench.add_argument("--json", default="bench.json", help="where to write the JSON report (default bench.json)")
    bench.set_defaults(run=_bench)
    return parser


def _add_diagnose(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ecs_watchdog.commands.diagnose import add_diagnose_arguments

    diagnose = commands.add_parser(
        "diagnose", help="run the read-only probes against one ECS service (exit 1 when one finds a cause)"
    )
    add_diagnose_arguments(diagnose)
    diagnose.set_defaults(run=_diagnose)


def _diagnose(args: argparse.Namespace) -> int:
    _quiet_lambda_tooling()
    from ecs_watchdog.commands.diagnose import run_diagnose

    if not args.local:
        return run_diagnose(args)
    from ecs_watchdog.replay import diagnose_sandbox

    args.cluster = args.cluster or diagnose_sandbox.CLUSTER
    if not args.task:
        args.service = args.service or diagnose_sandbox.SERVICE
    with diagnose_sandbox.planted_account() as session:
        return run_diagnose(args, session=session)


EXIT_FAILED = 1


def _add_preflight(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ecs_watchdog.commands.preflight import add_preflight_arguments

    preflight = commands.add_parser(
        "preflight", help="check a revision before ECS starts a task of it (exit 1 when a check fails)"
    )
    add_preflight_arguments(preflight)
    preflight.set_defaults(run=_preflight)


def _preflight(args: argparse.Namespace) -> int:
    _quiet_lambda_tooling()
    from ecs_watchdog.commands.preflight import run_preflight

    return run_preflight(args)


def _needs_local_extra(parser: argparse.ArgumentParser, error: ModuleNotFoundError) -> None:
    from ecs_watchdog.commands.extras import missing_extra

    advice = missing_extra(error)
    if advice is None:
        raise error
    parser.description = f"This command {advice}"
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(run=lambda args: _say_missing_extra(args.command, advice))


def _say_missing_extra(command: str, advice: str) -> int:
    print(f"ecs-watchdog {command}: {advice}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand. Whatever goes wrong is one line on stderr and a non-zero exit status, never
    a traceback; `--debug` shows the traceback."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments  # accepted anywhere: `ecs-watchdog replay --debug` too
    args = build_parser().parse_args([a for a in arguments if a != "--debug"])
    args.debug = debug
    try:
        return int(args.run(args))
    except ModuleNotFoundError as error:
        from ecs_watchdog.commands.extras import missing_extra

        if (advice := missing_extra(error)) is None:
            if args.debug:
                raise
            from ecs_watchdog.commands.errors import one_line

            print(f"ecs-watchdog {args.command}: {one_line(error)} (--debug shows where)", file=sys.stderr)
            return EXIT_FAILED
        return _say_missing_extra(args.command, advice)
    except KeyboardInterrupt:
        print(f"ecs-watchdog {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        from ecs_watchdog.commands.errors import one_line

        print(f"ecs-watchdog {args.command}: {one_line(error)} (--debug shows where)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
