"""The docs against the code: every limit quoted with its value is the code's, the agent's
limits in docs/firmware.md and docs/protocol.md are the firmware's, every constant and
identifier named exists, every test cited exists (also in quality_scale.yaml, with the
files it names). Commands, options and UI texts: tests/test_docs.py and
tests/test_docs_commands.py. (A little over 350 lines: half of it is the phrase tables.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

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
        "re-announce every {SSDP_REANNOUNCE_MS // 1000} s (max-age {SSDP_MAX_AGE})",
        "restarted after a pause that doubles from {TASK_RESTART_PAUSE_MS} ms; after "
        "{TASK_RESTARTS_MAX} failures in a row",
        "a task that ran {TASK_HEALTHY_MS // 1000} s starts from zero",
        "Multicast TTL: {SSDP_MULTICAST_TTL} on the unix port",
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
INTEGRATION_PHRASES = {
    "docs/appliances.md": (
        "one state change per press (up to {MAX_EVENTS_PER_NOTIFY} per event)",
        "{FORGED_EVENTS_THRESHOLD} refused within {FORGED_EVENTS_WINDOW_S // 60} minutes",
        "(TIMEOUT {SUBSCRIPTION_TIMEOUT_S} s, renewed a minute before expiry",
        "polled every {POLL_INTERVAL_S} s through their getter actions, and SUBSCRIBE is "
        "retried every {SUBSCRIBE_RETRY_POLLS} polls",
        "retries with backoff ({RECONNECT_BACKOFF_INITIAL_S:g} s doubling to "
        "{RECONNECT_BACKOFF_MAX_S:g} s)",
        "renewed every {LIVENESS_PROBE_INTERVAL_S} s as a probe, with a "
        "{LIVENESS_PROBE_TIMEOUT_S} s timeout",
        "about {LIVENESS_PROBE_FAILURES * LIVENESS_PROBE_INTERVAL_S + LIVENESS_PROBE_TIMEOUT_S}"
        " s (two intervals plus the probe timeout)",
        "`invalid_url` (not http/https or > {MAX_LOCATION_LENGTH} characters)",
    ),
    "docs/router.md": (
        "The router is polled every {UPDATE_INTERVAL.seconds} s (`UPDATE_INTERVAL`)",
        "`lease_duration` (required, {MIN_LEASE} s to {MAX_LEASE} s)",
        "the first {MAX_ENFORCE_PREVIEW} by name and the exact count",
        "`privileged_port` (< {PRIVILEGED_PORT_LIMIT})",
    ),
    "docs/audit.md": (
        "unique id `{AUDIT_UNIQUE_ID}`",
        "at most {MAX_DESCRIBED_PER_RUN} a run",
        "At setup, every {PASSIVE_INTERVAL_S // 3600} hours",
        "at most one run per {DISCOVERY_DEBOUNCE_S:g} s",
        "counted for {AMPLIFICATION_WAIT_S:g} s (at most {MAX_PROBE_REPLY_BYTES // 1024 // 1024}"
        " MiB counted)",
        "at about {UDA_REPLY_BYTES} bytes each",
        "pick a free TCP port in {PROBE_PORT_RANGE[0]}-{PROBE_PORT_RANGE[1]}",
        "lease {PROBE_LEASE_S} s, description `{PROBE_DESCRIPTION}`",
        "reading at most {MAX_PROBE_NOTIFY_BYTES // 1024} KB of a request for "
        "{PROBE_NOTIFY_READ_S:g} s",
        "up to {MAX_CALLBACK_PROBE_SERVICES} of the device's evented services",
        "100 minus {SEVERITY_WEIGHT['critical']} per critical, {SEVERITY_WEIGHT['high']} per "
        "high, {SEVERITY_WEIGHT['medium']} per medium, {SEVERITY_WEIGHT['low']} per low finding",
        "| devices kept | {MAX_DEVICES} |",
        "| device and service types per device | {MAX_TYPES} each |",
        "| search replies per run | {MAX_SEARCH_REPLIES} |",
        "| descriptions read per run | {MAX_DESCRIBED_PER_RUN} |",
        "| findings | {MAX_FINDINGS} (worst first) |",
        "| data file | {MAX_STACKS_FILE_BYTES // 1024} KiB, {MAX_STACK_ENTRIES} entries, "
        "patterns of {MAX_PATTERN_LENGTH} characters, versions of {MAX_VERSION_PARTS} parts |",
    ),
}


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
