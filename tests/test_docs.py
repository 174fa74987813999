"""The docs cite only files in the repository: every relative link, and every file path
written as code (`scripts/...`, `tests/...`, ...), exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        *(ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")),
        ROOT / "firmware" / "README.md",
        ROOT / "fuzz" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
)
PATH_PREFIXES = (
    "scripts/",
    "bench/",
    "tests/",
    "custom_components/",
    "firmware/",
    "docs/",
    "fuzz/",
)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"`([^`\s]+)`")


def cited_paths(text: str) -> list[str]:
    """Repository paths written as inline code (a test id's `::name` and glob, template
    or placeholder paths left out)."""
    paths = []
    for match in CODE.finditer(text):
        token = match.group(1).split("::", 1)[0].rstrip(".,:;")
        if token.startswith(PATH_PREFIXES) and not any(c in token for c in "*{<["):
            paths.append(token)
    return paths


def relative_links(text: str) -> list[str]:
    return [
        target
        for target in LINK.findall(text)
        if not target.startswith(("http://", "https://", "mailto:"))
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_docs_cite_only_files_that_exist(doc: Path) -> None:
    assert doc.exists()
    text = doc.read_text(encoding="utf-8")
    missing = [link for link in relative_links(text) if not (doc.parent / link).exists()]
    missing += [path for path in cited_paths(text) if not (ROOT / path).exists()]
    assert not missing, f"{doc.relative_to(ROOT)} cites what is not in the repository"


def test_the_checks_see_paths_and_links() -> None:
    text = "see `scripts/nope` and [x](docs/gone.md#a), `tests/a.py::test_b`, `bench/*.py`"
    assert cited_paths(text) == ["scripts/nope", "tests/a.py"]
    assert relative_links(text) == ["docs/gone.md"]
