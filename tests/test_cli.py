"""The leadscore command explains itself: help for every command and flag, clear refusals."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import BIN
from leadscore.cli import COMMANDS, main


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    try:
        code = main([command, "--help"])
    except SystemExit as exc:  # argparse exits after printing help
        code = exc.code
    assert code in (0, None)
    return capsys.readouterr().out


def _undocumented_options(text: str) -> list[str]:
    """Options in an argparse help text that have no description."""
    lines = text.splitlines()
    missing = []
    for i, line in enumerate(lines):
        match = re.match(r"^  (-{1,2}[\w-]+)(?:[ ,][^ ].*?)?$", line)
        if not match or match.group(1) in ("-h", "--help"):
            continue
        described_here = re.match(r"^  -\S.*?\S  +\S", line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        described_below = following.startswith(" " * 8) and following.strip()
        if not (described_here or described_below):
            missing.append(match.group(1))
    return missing


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_and_flag_has_help(command, capsys):
    text = _help(command, capsys)
    assert "usage:" in text
    assert _undocumented_options(text) == []


def test_the_checker_notices_an_undocumented_flag():
    text = "options:\n  -h, --help   show\n  --top TOP\n  --seed SEED  random seed\n"
    assert _undocumented_options(text) == ["--top"]


def test_unknown_command_says_so_and_suggests(capsys):
    assert main(["shwo"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'shwo'" in err and "Did you mean 'show'" in err


def test_version_and_bare_help(capsys):
    assert main(["--version"]) == 0
    assert re.match(r"leadscore \d+\.\d+", capsys.readouterr().out)
    assert main([]) == 0
    assert "commands:" in capsys.readouterr().out


def test_build_help_does_not_run_dbt():
    result = subprocess.run(
        [str(BIN / "leadscore"), "build", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "leadscore build" in result.stdout and "unit tests are left out" in result.stdout
