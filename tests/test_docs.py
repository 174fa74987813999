"""The docs cite only files in the repository: every relative link, and every file path
written as code (`scripts/...`, `tests/...`, ...), exists."""

from __future__ import annotations

import ast
import json
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
# Each phrase, with {expression} over the firmware's constants, must appear in the doc
# (whitespace normalised). A limit changed in firmware/upnpguard fails here until the
# doc says the new value.
FIRMWARE_PHRASES = {
    "docs/firmware.md": (
        "| SSDP datagram | {SSDP_DATAGRAM_MAX} B |",
        "| MX | clamped {MX_MIN}..{MX_MAX}, random delay |",
        "1 reply per source (<= {SSDP_MAX_ST_PER_SOURCE} port/ST pairs merged)",
        "per {SSDP_BUDGET_WINDOW_MS // 1000} s window, replies <= max({SSDP_FIRST_CONTACT_BYTES "
        "// 1000} 000 B",
        "| sources tracked (`SSDP_SOURCES_MAX`) | {SSDP_SOURCES_MAX};",
        "| SSDP datagrams read per turn (`SSDP_RECEIVE_BATCH`) | {SSDP_RECEIVE_BATCH}, then",
        "| request line | {HTTP_REQUEST_LINE_MAX} B | 400 |",
        "| headers | {HTTP_HEADERS_MAX} | 431 |",
        "| header block | {HTTP_HEADER_BLOCK_MAX // 1024} KB | 431 |",
        "| body | {HTTP_BODY_MAX // 1024} KB | 413 |",
        "| read deadline | {HTTP_READ_DEADLINE_MS // 1000} s per request | 408, closed |",
        "| connections | {HTTP_MAX_CONNECTIONS} | 503 |",
        "| connections per peer | {HTTP_MAX_CONNECTIONS_PER_PEER}; beyond,",
        "no byte for {HTTP_IDLE_MS // 1000} s",
        "| XML attributes | {SOAP_MAX_ATTRIBUTES} in all, {SOAP_ATTRIBUTE_MAX} B each",
        "| CALLBACK | http://IPv4 literal, own subnet, = subscriber, <= "
        "{GENA_CALLBACK_HEADER_MAX} B, <= {GENA_CALLBACK_URLS_MAX} URLs | 412 |",
        "| subscriptions | {GENA_MAX_SUBSCRIPTIONS_PER_SERVICE} per service | 503 |",
        "| subscriptions per peer | {GENA_MAX_SUBSCRIPTIONS_PER_PEER} per service per host",
        "| subscriptions in all | {GENA_MAX_SUBSCRIPTIONS_TOTAL} (",
        "| NOTIFYs in flight | {GENA_MAX_NOTIFY_IN_FLIGHT}, counted",
        "| TIMEOUT | clamped {GENA_TIMEOUT_MIN_S}..{GENA_TIMEOUT_MAX_S} s |",
        "| NOTIFY | {GENA_NOTIFY_TIMEOUT_MS // 1000} s timeout, dropped after {GENA_MAX_FAILURES} "
        "failures |",
        "| moderation | 1 event / {GENA_MODERATION_MS // 1000} s per sensor variable |",
    ),
    "docs/protocol.md": (
        "sent twice {SSDP_ALIVE_SPACING_MS} ms apart at start and every {SSDP_REANNOUNCE_MS // "
        "1000} s; `CACHE-CONTROL: max-age={SSDP_MAX_AGE}`",
        "needs MX (clamped to {MX_MIN}..{MX_MAX};",
        "one pending reply per source (up to {SSDP_MAX_ST_PER_SOURCE} port/ST pairs merged), "
        "{SSDP_SOURCES_MAX} sources tracked",
        "over a {SSDP_BUDGET_WINDOW_MS // 1000} s window a source gets back at most "
        "max({SSDP_FIRST_CONTACT_BYTES // 1000} 000 B,",
        "more than {SOAP_MAX_ELEMENTS} elements or {SOAP_MAX_DEPTH} levels: HTTP 400",
        "`CALLBACK` of at most {GENA_CALLBACK_HEADER_MAX} bytes and {GENA_CALLBACK_URLS_MAX} "
        "`<http://",
        "At most {GENA_MAX_SUBSCRIPTIONS_PER_SERVICE} subscriptions per service",
        "and {GENA_MAX_SUBSCRIPTIONS_TOTAL} in all",
        "`TIMEOUT` clamped to {GENA_TIMEOUT_MIN_S}..{GENA_TIMEOUT_MAX_S} s (`infinite` and absent "
        "mean {GENA_TIMEOUT_MAX_S})",
        "at most {GENA_MAX_NOTIFY_IN_FLIGHT} in all (the rest wait for one to finish), "
        "{GENA_NOTIFY_TIMEOUT_MS // 1000} s timeout; after {GENA_MAX_FAILURES} consecutive "
        "failures",
        "at most one event per variable per {GENA_MODERATION_MS // 1000} s",
        "or one of the {REPLAY_WINDOW} below it not seen yet",
        "more than {REPLAY_WINDOW} below the highest",
        "fail {PEER_FAILURES} times without a right MAC within {PEER_WINDOW_MS // 1000} s of its "
        "first failure",
        "`Retry-After: {PEER_WINDOW_MS // 1000}`",
        "remembers {PEERS_MAX} such peers at most",
        "{KEY_BYTES} random bytes per agent",
    ),
}


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
    constants = _firmware_constants()
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    missing = []
    for template in FIRMWARE_PHRASES[doc]:
        phrase = re.sub(
            r"\{([^}]+)\}",
            lambda match: str(eval(match.group(1), {"__builtins__": {}}, constants)),  # noqa: S307 - our own templates
            template,
        )
        if phrase not in text:
            missing.append(phrase)
    assert not missing, f"{doc} does not say (or no longer says) these"


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


# -- commands ----------------------------------------------------------------------------
def _script_flags(doc_text: str) -> list[tuple[str, str]]:
    """(script, flag) for each `--flag` in a code span that runs scripts/<x>, bench/<x>.py
    or fuzz/<x>.py."""
    found = []
    for span in re.findall(r"`([^`\n]+)`", doc_text) + re.findall(
        r"```sh\n(.*?)```", doc_text, re.S
    ):
        for line in span.splitlines():
            match = re.search(r"((?:scripts/[a-z-]+)|(?:(?:bench|fuzz)/\w+\.py))((?: \S+)*)", line)
            if match:
                for flag in re.findall(r"(?<!\S)(--[a-z][\w-]*)", match.group(2)):
                    found.append((match.group(1), flag))
    return found


def test_every_flag_the_docs_give_a_command_is_one_it_reads() -> None:
    """scripts/ take their flags by name (scripts/develop's go to tests/demo); bench/
    and fuzz/ files parse theirs; scripts/test reads `--no-lint` only as its first
    argument and passes the rest to pytest."""
    checked = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for script, flag in _script_flags(text):
            source = (ROOT / script).read_text(encoding="utf-8")
            if script == "scripts/develop":
                source += (ROOT / "tests" / "demo" / "__main__.py").read_text(encoding="utf-8")
            if script == "scripts/test" and flag != "--no-lint":
                continue  # pytest's
            assert f'"{flag}"' in source or f"{flag})" in source, (doc.name, script, flag)
            checked.append((script, flag))
        for args in re.findall(r"scripts/test ((?:-\S+ )*)--no-lint", text):
            assert not args, f"{doc.name}: --no-lint must come first: {args}"
    assert ("scripts/setup", "--relock") in checked
    assert ("bench/router_list.py", "--generic-repeat") in checked


def test_the_host_tools_setup_checks_are_the_ones_the_readme_lists() -> None:
    """scripts/setup uses the host (no sandbox) only when these are all there."""
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    match = re.search(r"for tool in ([a-z0-9 -]+); do", setup)
    assert match is not None
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    develop = readme[readme.index("## Develop") :]
    prerequisites = develop[: develop.index("```")]
    assert [tool for tool in match.group(1).split() if f"`{tool}`" not in prerequisites] == []


# -- what the UI shows -------------------------------------------------------------------
def _strings() -> dict[str, object]:
    return json.loads(
        (ROOT / "custom_components" / "upnp_guard" / "strings.json").read_text(encoding="utf-8")
    )


def test_the_router_options_table_names_the_forms_fields_and_defaults() -> None:
    """docs/router.md "Policy (options)": a row per field of the options form, by the
    label the form shows, with the code's defaults and bounds."""
    from custom_components.upnp_guard.router import const  # noqa: PLC0415

    strings = _strings()
    labels = strings["options"]["step"]["init"]["data"]  # type: ignore[index]
    text = (ROOT / "docs" / "router.md").read_text(encoding="utf-8")
    section = text[text.index("## Policy (options)") : text.index("## Alerts")]
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| \*\*(.+?)\*\* \| ([^|]+) \|", section, re.M)
    }
    assert sorted(rows) == sorted(labels.values())
    assert rows[labels[const.CONF_MODE]].strip() == f"`{const.MODE_MONITOR}`"
    grace = f"{const.DEFAULT_GRACE_PERIOD} s (0 to {const.MAX_GRACE_PERIOD:,} s)".replace(",", " ")
    assert rows[labels[const.CONF_GRACE_PERIOD]].strip() == grace


def test_every_flow_error_the_docs_name_is_one_the_flows_have() -> None:
    """A sentence of the docs that lists errors or an abort names keys the config and
    options flows really have (strings.json)."""
    strings = _strings()
    keys: set[str] = set()
    for flow in ("config", "options"):
        for kind in ("error", "abort"):
            keys |= set(strings[flow].get(kind, {}))  # type: ignore[attr-defined]
    named = []
    for name in ("appliances.md", "router.md", "troubleshooting.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        for paragraph in re.split(r"\n\s*\n", text):
            flat = " ".join(paragraph.split())
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*`\"(])", flat):
                if re.search(r"\bErrors\b|\babort", sentence):
                    named += re.findall(r"`([a-z]+(?:_[a-z]+)+)`", sentence)
    assert len(named) >= 10, named
    assert sorted(set(named) - keys) == []


def test_the_description_url_hint_is_where_our_agent_serves_it() -> None:
    """The config flow's example URL is an agent's: its default port and path."""
    core = (ROOT / "firmware" / "upnpguard" / "core.py").read_text(encoding="utf-8")
    port = re.search(r"^DEFAULT_HTTP_PORT = (\d+)$", core, re.M)
    path = re.search(r'^DESCRIPTION_PATH = "(/[\w.]+)"$', core, re.M)
    assert port is not None
    assert path is not None
    strings = _strings()
    for step in ("user", "reconfigure"):
        hint = strings["config"]["step"][step]["data_description"]["location"]  # type: ignore[index]
        urls = re.findall(r"http://[\w.:/]+\w", hint)
        assert urls, hint
        for url in urls:
            assert url.endswith(f":{port.group(1)}{path.group(1)}"), url


# -- the agent's command line and control channel (firmware/README.md) -------------------
def test_the_agents_options_and_commands_in_its_readme_are_the_ones_it_reads() -> None:
    """Every `--option` the README gives the agent is read from its arguments (agent.py,
    the unix HAL), and the control-channel table lists exactly the unix HAL's commands."""
    readme = (ROOT / "firmware" / "README.md").read_text(encoding="utf-8")
    agent = (ROOT / "firmware" / "upnpguard" / "agent.py").read_text(encoding="utf-8")
    hal = (ROOT / "firmware" / "hal" / "unix.py").read_text(encoding="utf-8")
    read = set(re.findall(r"args(?:\.get\(|\[)\"(\w+)\"", agent + hal))
    given = {
        flag
        for line in readme.splitlines()
        if "bench/" not in line
        for flag in re.findall(r"(?<![\w-])--([a-z_]+)", line)
    }
    assert given, readme
    assert sorted(given - read) == []
    section = readme[readme.index("## Control channel") :]
    section = section[: section.index("\n## ")]
    documented = set(re.findall(r"^\| `(\w+)", section, re.M))
    handled = set(re.findall(r'if cmd == "(\w+)":', hal))
    assert documented == handled


def test_contributing_lists_every_variable_the_scripts_read() -> None:
    """CONTRIBUTING.md's table of environment variables: each `UPNP_GUARD_*` that scripts/
    read or pass into the sandbox, and no other."""
    scripts = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "scripts").iterdir() if path.is_file()
    )
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    table = contributing[contributing.index("## Environment variables") :]
    table = table[: table.index("\n## ")]
    documented = set(re.findall(r"^\| `(UPNP_GUARD_[A-Z_]+)", table, re.M))
    assert documented == set(re.findall(r"UPNP_GUARD_[A-Z_]+", scripts))


def test_the_readme_describes_the_demo_as_it_runs() -> None:
    """README "Run it": the URL, the demo user, the pins' timing and commands."""
    from tests.demo import hass, pins  # noqa: PLC0415

    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    every = pins.DRIFT_EVERY_S
    for phrase in (
        f"**http://127.0.0.1:{hass.HA_PORT}**",
        f"**`{hass.DEMO_USER}`**, password **`{hass.DEMO_PASSWORD}`**",
        f"the climate drifts every {every:.0f} s, the button is pressed every "
        f"{every * pins.PRESS_EVERY:.0f} s, the window opens and closes every "
        f"{every * pins.WINDOW_EVERY:.0f} s; `--no-drift` turns that off",
    ):
        assert phrase in readme, phrase
    source = (ROOT / "tests" / "demo" / "pins.py").read_text(encoding="utf-8")
    commands = set(re.findall(r'case \["(\w+)"', source))
    shown = [words.split()[0] for words in re.findall(r"`scripts/develop pins ([^`]+)`", readme)]
    assert sorted(shown) == sorted(commands)


def test_services_yaml_asks_for_what_the_actions_schemas_take() -> None:
    """The fields the UI offers (services.yaml) are the schema's keys, required where the
    schema requires them, and a number field's bounds are the schema's: its min and max
    pass, one beyond either is refused."""
    import voluptuous as vol  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    from custom_components.upnp_guard.appliance import services as appliance  # noqa: PLC0415
    from custom_components.upnp_guard.audit import services as audit  # noqa: PLC0415
    from custom_components.upnp_guard.router import services as router  # noqa: PLC0415

    schemas = {
        "list_port_mappings": router.LIST_SCHEMA,
        "add_port_mapping": router.ADD_SCHEMA,
        "remove_port_mapping": router.REMOVE_SCHEMA,
        "call_action": appliance.CALL_ACTION_SCHEMA,
        "get_variables": appliance.GET_VARIABLES_SCHEMA,
        "audit_report": audit.SCHEMA,
    }
    services = yaml.safe_load(
        (ROOT / "custom_components" / "upnp_guard" / "services.yaml").read_text()
    )
    assert sorted(services) == sorted(schemas)
    for action, spec in services.items():
        schema = schemas[action]
        keys = {str(key): key for key in schema.schema}
        assert sorted(keys) == sorted(spec["fields"]), action
        required = {name: isinstance(key, vol.Required) for name, key in keys.items()}
        for field, field_spec in spec["fields"].items():
            assert bool(field_spec.get("required")) == required[field], (action, field)
            number = (field_spec.get("selector") or {}).get("number")
            if number is None:
                continue
            validator = schema.schema[keys[field]]
            for inside in (number["min"], number["max"]):
                validator(inside)
            for outside in (number["min"] - 1, number["max"] + 1):
                with pytest.raises(vol.Invalid):
                    validator(outside)
