"""The docs against the code: every limit quoted with its value is the code's, the agent's
limits in docs/firmware.md and docs/protocol.md are the firmware's, every constant and
identifier named exists, every test cited exists (also in quality_scale.yaml, with the
files it names). Commands, options and UI texts: tests/test_docs.py and
tests/test_docs_commands.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.docs_phrases import FIRMWARE_PHRASES, INTEGRATION_PHRASES
from tests.test_docs import DOCS, ROOT

# -- names, values and commands the docs quote, against the code ------------------------
CODE_DIRS = ("custom_components", "firmware", "tests", "scripts", "bench", "fuzz", "fleet")
CODE_SUFFIXES = {".py", ".json", ".yaml", ".sh", ".ini", ".toml", ""}


def _code_text() -> str:
    files = [
        path
        for folder in CODE_DIRS
        if (ROOT / folder).is_dir()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in CODE_SUFFIXES
    ]
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


def _constants() -> dict[str, object]:
    """Every module-level UPPER_CASE constant of the integration and the firmware whose
    value is a literal, a product of literals, `const(...)` or `timedelta(seconds=...)`.
    A name defined twice with different values is left out (ambiguous)."""
    values: dict[str, object] = {}
    clashes: set[str] = set()
    sources = [
        *(ROOT / "custom_components").rglob("*.py"),
        *(ROOT / "firmware" / "upnpguard").glob("*.py"),
    ]
    for source in sources:
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, expr = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, expr = node.targets[0], node.value
            else:
                continue
            if not (isinstance(target, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]+", target.id)):
                continue
            if isinstance(expr, ast.Call) and expr.args and not expr.keywords:
                expr = expr.args[0]  # const(8000)
            elif isinstance(expr, ast.Call) and len(expr.keywords) == 1 and not expr.args:
                expr = expr.keywords[0].value  # timedelta(seconds=30)
            try:
                value = eval(compile(ast.Expression(expr), "<const>", "eval"), {"__builtins__": {}})  # noqa: S307 - literals and arithmetic only
            except NameError, TypeError, AttributeError, SyntaxError, ValueError:
                continue
            if target.id in values and values[target.id] != value:
                clashes.add(target.id)
            values[target.id] = value
    return {name: value for name, value in values.items() if name not in clashes}


UNITS = {"": 1, "s": 1, "KiB": 1024, "MiB": 1024 * 1024, "B": 1, "characters": 1}
NUMBER = r"(\d[\d ]*(?:\.\d+)?)\s*(KiB|MiB|s|B|characters)?"


def quoted_values(text: str) -> list[tuple[str, float]]:
    """`NAME` (64), `NAME` (15 s), `NAME` = 256 KiB, 512 characters (`NAME`): the name and
    the number the doc gives it, in the unit of the code (bytes, seconds)."""
    found = []
    patterns = (
        rf"`([A-Z][A-Z0-9_]+)` \({NUMBER}[):;,]",
        rf"`([A-Z][A-Z0-9_]+)` = {NUMBER}",
    )
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            name, number, unit = match.groups()
            found.append((name, float(number.replace(" ", "")) * UNITS[unit or ""]))
    for match in re.finditer(rf"\b{NUMBER}\s+\(`([A-Z][A-Z0-9_]+)`\)", text):
        number, unit, name = match.groups()
        found.append((name, float(number.replace(" ", "")) * UNITS[unit or ""]))
    return found


def test_quoted_values_are_read_in_the_units_of_the_code() -> None:
    text = (
        "`MAX_A` (64) bad rows, `MAX_B` (15 s), `MAX_C` = 256 KiB | x, over 512 characters "
        "(`MAX_D`) and `MAX_E` (4 096) rows, `MAX_F` (a word)"
    )
    assert quoted_values(text) == [
        ("MAX_A", 64),
        ("MAX_B", 15),
        ("MAX_E", 4096),
        ("MAX_C", 256 * 1024),
        ("MAX_D", 512),
    ]


def test_every_limit_the_docs_quote_with_its_value_is_the_codes() -> None:
    """Where a doc gives a constant's value next to its name, the code has that value."""
    constants = _constants()
    checked = []
    for doc in DOCS:
        for name, value in quoted_values(doc.read_text(encoding="utf-8")):
            assert name in constants, f"{doc.relative_to(ROOT)} quotes {name}, not in the code"
            code_value = constants[name]
            assert isinstance(code_value, (int, float)), name
            assert value == code_value, (
                f"{doc.relative_to(ROOT)}: {name} is {code_value}, not {value}"
            )
            checked.append(name)
    # The docs quote a couple of dozen; a pattern that stopped matching must not pass.
    assert len(checked) >= 15, checked


def test_every_constant_and_identifier_the_docs_name_exists() -> None:
    """`UPPER_CASE` constants and `snake_case` identifiers (options, fields, error and
    issue keys, event types, risk flags) the docs name in code spans are in the code, the
    translations or the scripts; environment variables (`UPNP_GUARD_*`), UPnP's
    `A_ARG_TYPE_` prefix and Home Assistant's own YAML keys left out."""
    code = _code_text()
    outside = {"event_data"}  # an automation trigger's key (Home Assistant core)
    missing = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        names = re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", text)
        names += re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", text)
        for name in names:
            if name.startswith(("UPNP_GUARD_", "A_ARG_TYPE_")) or name in outside:
                continue
            if not re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", code):
                missing.append(f"{doc.relative_to(ROOT)}: {name}")
    assert not missing


# -- the agent's limits as docs/firmware.md and docs/protocol.md state them -------------
# Each phrase of tests/docs_phrases.py, rendered over the firmware's constants, must appear
# in the doc (whitespace normalised).
def _firmware_constants() -> dict[str, int]:
    """`NAME = const(N)` of the agent's limits, auth and gate (leading `_` dropped)."""
    values = {}
    for module in ("limits", "auth", "guard"):
        source = (ROOT / "firmware" / "upnpguard" / f"{module}.py").read_text(encoding="utf-8")
        for name, number in re.findall(
            r"^_?([A-Z][A-Z0-9_]+) = const\(([0-9_xXA-Fa-f]+)\)", source, re.M
        ):
            values[name] = int(number.replace("_", ""), 0)
    return values


@pytest.mark.parametrize("doc", sorted(FIRMWARE_PHRASES))
def test_the_agents_limits_in_the_docs_are_the_firmwares(doc: str) -> None:
    constants: dict[str, object] = dict(_firmware_constants())
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    rendered = [_render(template, constants) for template in FIRMWARE_PHRASES[doc]]
    assert [phrase for phrase in rendered if phrase not in text] == []


# -- tests the docs cite -----------------------------------------------------------------
def cited_tests(text: str) -> list[tuple[str, str]]:
    """(module, test name) for `test_x.py::test_y`, `test_x::test_y` and the `::test_z`
    that continue a list after one (a `*` ends a name prefix)."""
    found = []
    for line in text.splitlines():
        module = None
        for match in re.finditer(r"(?:\b(test_\w+)(?:\.py)?)?::(test_\w+\*?)", line):
            module = match.group(1) or module
            if module is not None:
                found.append((module, match.group(2)))
    return found


def test_the_cited_tests_are_read_with_their_module() -> None:
    line = "a `test_fw_ssdp::test_a`, ::test_b, `tests/x/test_c.py::test_d_*` and ::test_e"
    assert cited_tests(line) == [
        ("test_fw_ssdp", "test_a"),
        ("test_fw_ssdp", "test_b"),
        ("test_c", "test_d_*"),
        ("test_c", "test_e"),
    ]


@pytest.mark.parametrize(
    "doc",
    [*DOCS, ROOT / "custom_components" / "upnp_guard" / "quality_scale.yaml"],
    ids=lambda doc: str(doc.relative_to(ROOT)),
)
def test_every_test_a_doc_cites_exists(doc: Path) -> None:
    modules: dict[str, str] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        modules[path.stem] = modules.get(path.stem, "") + path.read_text(encoding="utf-8")
    missing = []
    for module, name in cited_tests(doc.read_text(encoding="utf-8")):
        pattern = rf"def {name.rstrip('*')}" + ("" if name.endswith("*") else r"\b")
        if not re.search(pattern, modules.get(module, "")):
            missing.append(f"{module}::{name}")
    assert not missing


def test_every_repository_path_quality_scale_names_exists() -> None:
    """quality_scale.yaml's comments prove each rule with files: they exist (a bare test
    file name continues the folder named before it)."""
    text = (ROOT / "custom_components" / "upnp_guard" / "quality_scale.yaml").read_text()
    missing = []
    for line in text.splitlines():
        folder = None
        for token in re.findall(r"[\w./-]+\.(?:py|md|json|png)\b", line):
            if "/" in token:
                folder = token.rsplit("/", 1)[0]
                candidates = [ROOT / token, ROOT / "custom_components" / "upnp_guard" / token]
            else:
                candidates = [ROOT / token, ROOT / "custom_components" / "upnp_guard" / token]
                if folder is not None:
                    candidates.append(ROOT / folder / token)
                    candidates.append(ROOT / "custom_components" / "upnp_guard" / folder / token)
            if not any(path.exists() for path in candidates):
                missing.append(token)
    assert not missing


# -- the integration's limits and timings as the topic pages state them ------------------


def _integration_constants() -> dict[str, object]:
    from custom_components.upnp_guard import const, paired  # noqa: PLC0415
    from custom_components.upnp_guard.appliance import const as appliance  # noqa: PLC0415
    from custom_components.upnp_guard.appliance import event  # noqa: PLC0415
    from custom_components.upnp_guard.audit import const as audit  # noqa: PLC0415
    from custom_components.upnp_guard.router import const as router  # noqa: PLC0415

    names: dict[str, object] = {}
    for module in (const, paired, appliance, event, audit, router):
        names |= {name: value for name, value in vars(module).items() if name.isupper()}
    return names


def _render(template: str, names: dict[str, object]) -> str:
    """`{expression[:format]}` over `names`, like an f-string."""

    def value(match: re.Match[str]) -> str:
        expression, _, spec = match.group(1).partition(":")
        return format(eval(expression, {"__builtins__": {}}, names), spec)  # noqa: S307 - our templates

    return re.sub(r"\{([^{}]+)\}", value, template)


@pytest.mark.parametrize("doc", sorted(INTEGRATION_PHRASES))
def test_the_integrations_limits_in_the_docs_are_the_codes(doc: str) -> None:
    names = _integration_constants()
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    rendered = [_render(template, names) for template in INTEGRATION_PHRASES[doc]]
    assert [phrase for phrase in rendered if phrase not in text] == []


def test_firmware_md_names_every_module_of_the_agent() -> None:
    """docs/firmware.md "Structure": a row for every module of firmware/upnpguard and hal/."""
    text = (ROOT / "docs" / "firmware.md").read_text(encoding="utf-8")
    structure = text[text.index("## Structure") :]
    structure = structure[: structure.index("\n## ")]
    named = set(re.findall(r"`((?:upnpguard|hal)/\w+\.py)`", structure))
    modules = {
        f"{path.parent.name}/{path.name}"
        for folder in ("upnpguard", "hal")
        for path in (ROOT / "firmware" / folder).glob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(modules - named) == []


def test_protocol_md_lists_the_read_only_actions_of_the_firmware() -> None:
    """docs/protocol.md names the agent's open queries: exactly the actions servicetypes.py
    marks read_only (the rest need an authenticator in paired mode)."""
    import sys  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        from upnpguard import servicetypes  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "firmware"))
    read_only = {
        action.name
        for value in vars(servicetypes).values()
        if hasattr(value, "actions")
        for action in value.actions
        if action.read_only
    }
    text = " ".join((ROOT / "docs" / "protocol.md").read_text(encoding="utf-8").split())
    listed = re.search(r"the agent's read-only ones are the `Get\*` queries: ([^;)]+)", text)
    assert listed is not None
    assert set(re.findall(r"\w+", listed.group(1))) == read_only
