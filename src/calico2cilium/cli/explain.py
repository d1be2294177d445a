"""``calico2cilium explain``: the catalog entry of a diagnostic code."""

from __future__ import annotations

import sys

import click

from calico2cilium.cli.common import EXIT_INVALID, guarded


@click.command("explain", short_help="Explain a diagnostic code, with failing and passing examples.")
@click.argument("code", required=False)
@click.option("--list", "list_all", is_flag=True, help="List every diagnostic code.")
@guarded
def command(code: str | None, list_all: bool) -> None:
    """Explain a diagnostic CODE (e.g. C2C211, or its name: invalid-selector), with examples,
    or a topic: 'exit-status' (what each exit status means, --fail-on) or 'output' (when output
    is written, --allow-partial, labels and annotations, --output-dir)."""
    from calico2cilium.cli.topics import TOPICS
    from calico2cilium.diagnostics.catalog import CATALOG, lookup

    if list_all or code is None:
        for doc in CATALOG.values():
            click.echo(f"{doc.code}  {doc.name:<24} {doc.severity.value:<8} {doc.summary}")
        click.echo("\nTopics: " + ", ".join(TOPICS) + " (calico2cilium explain TOPIC)")
        return
    if code.strip().lower() in TOPICS:
        click.echo(TOPICS[code.strip().lower()])
        return
    found = lookup(code)
    if found is None:
        click.echo(
            f"calico2cilium: unknown diagnostic code {code!r}; see 'calico2cilium explain --list'", err=True
        )
        sys.exit(EXIT_INVALID)
    doc = found
    click.echo(f"{doc.code} {doc.name} ({severity_words(doc.code, doc.severity.value)})\n")
    click.echo(f"{doc.summary}\n\n{doc.explanation}")
    if doc.narrowing:
        click.echo(
            "\nCounts for --fail-on narrowing: the output decides some traffic otherwise than Calico here."
        )
    for title, example, inventory, flags in (
        ("Fails", doc.failing, doc.failing_inventory, doc.failing_flags),
        ("Passes", doc.passing, doc.passing_inventory, doc.passing_flags),
    ):
        if example is not None:
            shown = example if isinstance(example, str) else repr(example)
            click.echo(f"\n{title}:\n" + "".join(f"    {line}\n" for line in shown.splitlines()))
        if flags:
            click.echo("  with " + " ".join(f"{flag} {value}".strip() for flag, value in flags))
        if inventory is not None:
            click.echo("  with --inventory:\n" + "".join(f"    {line}\n" for line in inventory.splitlines()))


def severity_words(code: str, severity: str) -> str:
    """The code's severity, with the exception the exit contract makes for it."""
    from calico2cilium.diagnostics.catalog import FAILS_CLOSED, WIDENS

    if code in FAILS_CLOSED:
        return f"{severity}; a warning where the output fails closed"
    if code in WIDENS:
        return f"{severity}; an error where the output would allow more"
    return severity
