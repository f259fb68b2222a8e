"""The README and docs/: every link and named path exists, every training command composes."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from ganarena.config import check_group_choices

from .helpers import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
NAMED_PATH = re.compile(r"^(?:configs|src|benchmarks|tests|docs)/[\w./-]*$")
PLACEHOLDER = re.compile(r"<|NAME|\.\.\.|\*")
TRAIN = "python src/train.py"


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def outside_code(text: str) -> str:
    return FENCE.sub("", text)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    for target in LINK.findall(outside_code(page.read_text())):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page_id(page)} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page_id(page)}: no heading for #{anchor}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_named_path_exists(page: Path) -> None:
    for span in CODE_SPAN.findall(page.read_text()):
        for word in span.split():
            word = word.rstrip(",.;:)")
            if NAMED_PATH.match(word) and not PLACEHOLDER.search(word):
                assert (REPO_ROOT / word).exists(), f"{page_id(page)} names {word}"


def training_commands(page: Path) -> list[str]:
    """`python src/train.py ...` from bash blocks (continuations joined) and inline code."""
    text = page.read_text()
    commands = []
    for language, block in FENCE.findall(text):
        if language == "bash":
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split(" # ")[0].strip()
                if line.startswith(TRAIN):
                    commands.append(line)
    commands += [span for span in CODE_SPAN.findall(outside_code(text)) if span.startswith(TRAIN)]
    return [command for command in commands if not PLACEHOLDER.search(command)]


COMMANDS = [(page, command) for page in PAGES for command in training_commands(page)]


def test_the_docs_show_training_commands() -> None:
    assert len(COMMANDS) > 20


def single_runs(arguments: list[str]) -> list[list[str]]:
    """The jobs a command stands for, one per value of each sweep (the others at their first)."""
    overrides = [a for a in arguments if a not in ("-m", "--multirun", "--cfg", "job")]
    parsed = OverridesParser.create().parse_overrides(overrides)
    firsts = [
        f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}"
        if o.is_sweep_override()
        else o.input_line
        for o in parsed
    ]
    runs = [firsts]
    for index, override in enumerate(parsed):
        if override.is_sweep_override():
            for value in list(override.sweep_string_iterator())[1:]:
                run = list(firsts)
                run[index] = f"{override.get_key_element()}={value}"
                runs.append(run)
    return runs


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[c for _, c in COMMANDS])
def test_every_training_command_composes(compose_config, page: Path, command: str) -> None:
    arguments = shlex.split(command)[2:]
    check_group_choices(arguments)
    for run in single_runs(arguments):
        compose_config(*run)


def test_the_unknown_option_example_is_what_train_py_prints() -> None:
    from ganarena.errors import GanArenaError

    troubleshooting = (REPO_ROOT / "docs" / "troubleshooting.md").read_text()
    (shown,) = re.findall(r"^ *(error: unknown loss 'nope'.*)$", troubleshooting, re.M)
    with pytest.raises(GanArenaError) as error:
        check_group_choices(["loss=nope"])
    assert shown == f"error: {error.value}"


def test_nothing_points_outside_the_repository() -> None:
    """A user's clone has only the repository: no file may send the reader elsewhere."""
    banned = ("FIELD" + "_NOTES", "../" + "shared")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        path = REPO_ROOT / name
        if path.suffix in {".md", ".py", ".yaml", ".toml", ".txt", ""} and path.is_file():
            text = path.read_text(errors="ignore")
            assert not any(word in text for word in banned), name
