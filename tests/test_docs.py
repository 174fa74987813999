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


def _action_sections() -> dict[str, str]:
    text = (ROOT / "docs" / "actions.md").read_text(encoding="utf-8")
    parts = re.split(r"^## `upnp_guard\.([a-z_]+)`$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_action_and_field_is_documented_with_an_example() -> None:
    """docs/actions.md: a section per action in services.yaml, a table row per field with
    its default as services.yaml declares it, and a YAML example using response_variable."""
    import yaml  # noqa: PLC0415 - Home Assistant's dependency, only this test needs it

    services = yaml.safe_load(
        (ROOT / "custom_components" / "upnp_guard" / "services.yaml").read_text()
    )
    sections = _action_sections()
    assert sorted(sections) == sorted(services)
    for action, spec in services.items():
        section = sections[action]
        rows = {
            match.group(1): match.group(2)
            for match in re.finditer(r"^\| `([a-z_]+)` \|[^|]+\|([^|]*)\|", section, re.M)
        }
        assert sorted(rows) == sorted(spec["fields"]), action
        for field, field_spec in spec["fields"].items():
            if "default" in field_spec:
                default = str(field_spec["default"]).lower()
                assert default in rows[field].lower(), (action, field, rows[field])
        example = re.search(r"```yaml\n(.*?)```", section, re.S)
        assert example is not None, action
        parsed = yaml.safe_load(example.group(1))
        assert parsed["action"] == f"upnp_guard.{action}"
        assert parsed["response_variable"]
        assert set(parsed.get("data") or {}) <= set(spec["fields"]), action
