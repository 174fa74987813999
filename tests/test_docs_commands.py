"""The commands the docs give are the ones the code reads: the flags of scripts/, bench/
and fuzz/ (scripts/develop's through tests/demo), the host tools scripts/setup checks, the
environment variables of CONTRIBUTING.md, the agent's options and control channel
(firmware/README.md), the README's demo."""

from __future__ import annotations

import re

from tests.test_docs import DOCS, ROOT


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
                for flag in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", match.group(2)):
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
    assert ("bench/firmware_heap.py", "--each") in checked  # written `[--each 1]`


def test_the_host_tools_setup_checks_are_the_ones_the_readme_lists() -> None:
    """scripts/setup uses the host (no sandbox) only when these are all there."""
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    match = re.search(r"for tool in ([a-z0-9 -]+); do", setup)
    assert match is not None
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    develop = readme[readme.index("## Develop") :]
    prerequisites = develop[: develop.index("```")]
    assert [tool for tool in match.group(1).split() if f"`{tool}`" not in prerequisites] == []


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


def test_the_readme_names_the_pinned_home_assistant() -> None:
    """README "Tested against" and "Run it": the versions requirements_lock.txt pins."""
    lock = (ROOT / "requirements_lock.txt").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([\w-]+)==([\w.]+)$", lock, re.M))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    home_assistant = pins["homeassistant"]
    assert f"Home Assistant {home_assistant} (pytest-homeassistant-custom-component " in readme
    assert (
        f"pytest-homeassistant-custom-component {pins['pytest-homeassistant-custom-component']})"
        in readme
    )
    assert f"Starts the Home Assistant the tests use ({home_assistant}," in readme
