"""The ``statarb`` command line (also available as ``kedro statarb ...`` inside the project).

Each subcommand lives beside the code it drives; this module only assembles them. Imports are
lazy so that ``statarb --help`` stays fast and a broken optional part names itself.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
SUBCOMMANDS: dict[str, str] = {
    "sql": "statarb.reporting.sql_cli:sql",
    "generate": "statarb.synthetic.cli:generate",
    "db": "statarb.storage.db_cli:db",
    "runs": "statarb.backtest.runs_cli:runs",
    "fetch-arch": "statarb.ingest.arch_cli:fetch_arch",
    "recovery": "statarb.alpha.recovery_cli:recovery_cli",
    "backup": "statarb.storage.backup_cli:backup",
    "restore": "statarb.storage.backup_cli:restore",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """statarb: data generation, database migrations and roles, run listing, SQL over the store,
    backups."""


#: commands of this project that replace Kedro's own (``kedro run``: docs/ingestion.md, errors)
PROJECT_COMMANDS: dict[str, str] = {"run": "statarb.run_cli:run"}


class _ProjectGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *PROJECT_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = PROJECT_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(name="statarb-project", cls=_ProjectGroup)
def cli() -> None:
    """Project commands that Kedro adds to its own CLI: ``kedro statarb ...``, ``kedro run``."""


cli.add_command(main, name="statarb")


def __getattr__(name: str) -> click.Command:
    """``statarb.cli.run``, looked up by ``python -m statarb`` (Kedro's ``find_run_command``)."""
    if name in PROJECT_COMMANDS:
        module_name, attr = PROJECT_COMMANDS[name].split(":")
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
