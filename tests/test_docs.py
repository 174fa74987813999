"""The docs cite only files in the repository (every relative link, and every file path
written as code, exists; every section named with its file exists), and what they say a
user sees is what the code does: every action and field (docs/actions.md, services.yaml
against the schemas), the responses and event data, the router's options, the flows'
errors, the URL hint. Limits, constants and cited tests: tests/test_docs_code.py;
commands: tests/test_docs_commands.py."""

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
    """The config flow's example URL is an agent's: its default port (as firmware/README.md
    gives it) and path."""
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
    readme = (ROOT / "firmware" / "README.md").read_text(encoding="utf-8")
    assert f"<http_port> (default {port.group(1)};" in readme


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


# -- sections the docs point to -----------------------------------------------------------
SECTION_REFERENCE = re.compile(
    r"((?:[\w/]+/)?[\w-]+\.md)((?:(?:,| and) (?:[\w/]+/)?[\w-]+\.md)*)"
    r"(?:,\s*|\s*\(|\s+)(?:\"([^\"]+)\"|\*([^*]+)\*)"
)


def section_references(text: str) -> list[tuple[str, str]]:
    """(file, title) for `docs/x.md "Title"`, `x.md, *Title*`, `a.md and b.md "Title"`."""
    found = []
    for match in SECTION_REFERENCE.finditer(" ".join(text.split())):
        title = match.group(3) or match.group(4)
        for name in [match.group(1), *re.findall(r"[\w/-]+\.md", match.group(2))]:
            found.append((name, title))
    return found


def test_section_references_are_read() -> None:
    text = 'see docs/a.md and docs/b.md "Known limitations", c.md, *Moves*; d.md ("Memory")'
    assert section_references(text) == [
        ("docs/a.md", "Known limitations"),
        ("docs/b.md", "Known limitations"),
        ("c.md", "Moves"),
        ("d.md", "Memory"),
    ]


@pytest.mark.parametrize(
    "doc",
    [
        *DOCS,
        ROOT / "custom_components" / "upnp_guard" / "quality_scale.yaml",
        ROOT / "custom_components" / "upnp_guard" / "strings.json",
    ],
    ids=lambda doc: str(doc.relative_to(ROOT)),
)
def test_every_section_a_doc_points_to_exists(doc: Path) -> None:
    """A section named with its file is a heading there (or starts one, before a
    parenthesis or a colon), or a bold term of it."""
    missing = []
    for name, title in section_references(doc.read_text(encoding="utf-8")):
        target = next(
            (
                path
                for path in (ROOT / name, doc.parent / name, ROOT / "docs" / Path(name).name)
                if path.is_file()
            ),
            None,
        )
        assert target is not None, name
        text = target.read_text(encoding="utf-8")
        headings = [heading.strip() for heading in re.findall(r"^#+ (.+)$", text, re.M)]
        if not (
            any(
                heading == title or heading.startswith((f"{title} (", f"{title}:"))
                for heading in headings
            )
            or f"**{title}**" in text
        ):
            missing.append(f"{name}: {title}")
    assert not missing


# -- what actions return and events carry -------------------------------------------------
def _returned_keys(path: Path, function: str, cls: str | None = None) -> list[str]:
    """The keys of the dict literal `function` (a method of `cls`) returns, in order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scope: ast.AST = tree
    if cls is not None:
        scope = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    node = next(
        n
        for n in ast.walk(scope)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function
    )
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
    literal = next(value for value in returned if isinstance(value, ast.Dict))
    return [key.value for key in literal.keys if isinstance(key, ast.Constant)]


def _documented_keys(text: str, after: str) -> list[str]:
    """The quoted keys of the `{...}` that follows `after` in a doc."""
    start = text.index(after)
    span = text[start : text.index("`", text.index("`{", start) + 2)]
    return re.findall(r'"(\w+)"', span)


def test_the_documented_responses_and_event_data_are_what_the_code_returns() -> None:
    """docs/actions.md's responses and docs/automations.md's event keys name exactly the
    keys the code puts in them."""
    integration = ROOT / "custom_components" / "upnp_guard"
    mapping = _returned_keys(integration / "router" / "models.py", "as_dict", "MappingReport")
    actions = (ROOT / "docs" / "actions.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", actions, flags=re.M)
    section = {part.split("`")[1]: part for part in sections if part.startswith("`")}
    listing = section["upnp_guard.list_port_mappings"]
    assert _documented_keys(listing, "Response:") == ["port_mappings", *mapping]
    added = _returned_keys(integration / "router" / "services.py", "_async_add")
    assert _documented_keys(section["upnp_guard.add_port_mapping"], "Response:") == added
    report = _returned_keys(integration / "audit" / "runner.py", "as_dict")
    assert _documented_keys(section["upnp_guard.audit_report"], "Response:") == report
    removed = section["upnp_guard.remove_port_mapping"]
    results = re.findall(r'= "(\w+)"', _class_source(integration / "router" / "models.py"))
    assert _documented_keys(removed, "Response:") == ["result", *results]
    automations = (ROOT / "docs" / "automations.md").read_text(encoding="utf-8")
    table = automations[automations.index("| key | value |") :]
    table = table[: table.index("\n\n")]
    event_keys = {
        key
        for cell in re.findall(r"^\| ([^|]+) \|", table, re.M)
        for key in re.findall(r"`(\w+)`", cell)
    }
    assert event_keys == {"type", "config_entry_id", *mapping}


def _class_source(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index("class RemovalResult")
    return text[start : text.index("\n\n\n", start)]


def test_every_repair_issue_the_docs_name_has_its_text() -> None:
    """`x` repair, `x` issue, the repair `x`: a repair issue strings.json translates."""
    issues = set(_strings()["issues"])  # type: ignore[call-overload]
    named = []
    for doc in DOCS:
        text = " ".join(doc.read_text(encoding="utf-8").split())
        for match in re.finditer(
            r"`([a-z]+(?:_[a-z]+)+)` (?:repair|issue)|(?:repair|issue)s? `([a-z]+(?:_[a-z]+)+)`",
            text,
        ):
            named.append(match.group(1) or match.group(2))
    assert len(named) >= 5, named
    assert sorted(set(named) - issues) == []
