"""The ``calico2cilium`` command. Thin: parse flags, call the library, render, pick the exit status.

One module per subcommand; ``common.py`` holds what they share.

Exit status for every command: 0 clean, 1 findings (warnings, or differences for ``verify``),
2 invalid input or usage, 3 internal error (a bug: please report it).
"""

from __future__ import annotations

import click

from calico2cilium import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="calico2cilium")
def main() -> None:
    """Carry Calico network policy to Cilium without changing what traffic is allowed.

    Every input document is converted exactly, converted with a diagnostic naming what changed,
    or refused with one. Run 'calico2cilium explain CODE' for any diagnostic code.
    """


def _register() -> None:
    from calico2cilium.cli import convert, diff, explain, lint, report, verify

    for module in (convert, lint, explain, verify, diff, report):
        main.add_command(module.command)


_register()
