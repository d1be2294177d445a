"""The ``calico2cilium`` command. Thin: parse flags, call the library, render, pick the exit status.

One module per subcommand; ``common.py`` holds what they share.

Exit status for every command (``calico2cilium explain exit-status``): 0 clean, 1 findings at or
above ``--fail-on`` (warnings), 2 invalid input or usage, 3 internal error (a bug: please report
it), 4 the verifier found a difference no diagnostic explains.
"""

from __future__ import annotations

import os
from importlib import import_module

import click

from calico2cilium import __version__

COMMANDS: dict[str, str] = {
    "convert": "Convert Calico policy to Cilium policy (stdout or --output-dir).",
    "diff": "Show the traffic whose verdict changes between two policy sets.",
    "explain": "Explain a diagnostic code, with failing and passing examples.",
    "lint": "Check Calico and Kubernetes NetworkPolicy manifests.",
    "report": "Write a migration report (Markdown or HTML) for Calico inputs.",
    "verify": "Prove a Calico and a Cilium policy set equivalent, or show differences.",
}
"""Each subcommand (the module ``calico2cilium.cli.<name>``, its ``command``) and its short help.
Only the module of the command being run is imported (a pre-commit hook runs ``lint`` on one
file: importing the converter and the verifier would cost more than the check); ``--help`` lists
these texts, which tests/test_cli.py holds equal to each command's own ``short_help``."""


# pydantic looks up plugins (installed packages' entry points) when it builds the first model: a
# third of a one-file lint's start-up. They only observe validation, so the command turns them
# off unless the user set this variable.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = import_module(f"calico2cilium.cli.{cmd_name}").command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


@click.group(
    cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, "--version", prog_name="calico2cilium")
def main() -> None:
    """Carry Calico network policy to Cilium without changing what traffic is allowed.

    Every input document is converted exactly, converted with a diagnostic naming what changed,
    or refused with one. Run 'calico2cilium explain CODE' for any diagnostic code.
    """
