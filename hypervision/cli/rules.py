"""``hypervision rules check|backtest``: validate rule files without running them, replay readings."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click
import orjson

from alerts.backtest import BacktestInputError, Summary, backtest, change_to_dict, format_change, parse_jsonl
from alerts.loader import RulesError, RuleSet, load_rules
from hypervision.backtest import history_readings
from hypervision.cli.base import main, run_with_runtime
from hypervision.domain import Reading
from hypervision.runtime import Runtime

_FILES = click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))


@main.group("rules")
def rules_group() -> None:
    """Alert rules: check files, backtest them on recorded readings."""


def _load(files: tuple[Path, ...]) -> RuleSet:
    try:
        return load_rules(list(files))
    except RulesError as err:
        for line in str(err).splitlines():
            click.echo(line, err=True)
        raise SystemExit(1) from err


@rules_group.command("check")
@_FILES
def rules_check(files: tuple[Path, ...]) -> None:
    """Validate rule files; exit 1 listing every problem (file:line: rule: field: message)."""
    rules = _load(files)
    click.echo(f"ok: {len(rules.rules)} rules in {len(files)} file(s), digest {rules.digest[:12]}")


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date-time") from err
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs a time zone (e.g. +01:00 or Z)")
    return moment


@rules_group.command("backtest")
@_FILES
@click.option(
    "--input", "input_path", type=click.Path(dir_okay=False, path_type=Path), help="readings, JSON lines"
)
@click.option("--from", "start", help="start of the stored history to replay (ISO 8601 with zone)")
@click.option("--to", "end", help="end of the stored history to replay (ISO 8601 with zone)")
@click.option("--tick", default=60.0, show_default=True, help="seconds between engine ticks")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per change")
def rules_backtest(
    files: tuple[Path, ...],
    input_path: Path | None,
    start: str | None,
    end: str | None,
    tick: float,
    as_json: bool,
) -> None:
    """Print the alerts FILES would have raised over recorded readings: when, what and why."""
    if (input_path is None) == (start is None or end is None):
        raise click.UsageError("give either --input FILE, or both --from and --to")
    rules = _load(files)
    until: datetime | None = None
    if input_path is not None:
        try:
            with input_path.open(encoding="utf-8") as lines:
                readings = list(parse_jsonl(lines))
        except BacktestInputError as err:
            raise click.ClickException(f"{input_path}: {err}") from err
        except OSError as err:
            raise click.ClickException(f"cannot read {input_path}: {err.strerror or err}") from err
    else:
        assert start is not None and end is not None
        since, until = _moment(start), _moment(end)

        async def fetch(runtime: Runtime) -> list[Reading]:
            return await history_readings(runtime.redis, start=since, end=until)

        try:
            readings = run_with_runtime(fetch)
        except ValueError as err:
            raise click.ClickException(str(err)) from err
    changes = backtest(rules, readings, timedelta(seconds=tick), until=until)
    for change in changes:
        click.echo(
            orjson.dumps(change_to_dict(change, rules)).decode() if as_json else format_change(change, rules)
        )
    summary = Summary.of(changes)
    fired = ", ".join(f"{rule} x{n}" for rule, n in sorted(summary.fired.items())) or "none"
    click.echo(f"{len(readings)} readings, {summary.changes} changes; fired: {fired}", err=True)
