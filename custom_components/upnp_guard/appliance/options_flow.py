"""Options of a paired agent's entry, as a menu: a new pairing key (rotation.py), and
where its firmware bundles are (update.py) and whether a version not newer than the
running one may be installed (by version only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult

from .const import CONF_ALLOW_DOWNGRADE, CONF_BUNDLE_DIR
from .rotation import KeyRotationSteps

# A path typed by the user: bounded like any other text field.
_PATH_MAX = 255


def _usable_directory(text: str) -> bool:
    path = Path(text)
    return path.is_absolute() and path.is_dir()


class AgentOptionsFlow(KeyRotationSteps):
    """A new key (docs/appliances.md) or the firmware updates (docs/firmware.md,
    "Over-the-air updates")."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self.async_step_agent_menu()

    async def async_step_agent_menu(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The agent's own menu ("init" is the router's step in strings.json)."""
        return self.async_show_menu(step_id="agent_menu", menu_options=["rotate_key", "agent"])

    async def async_step_agent(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The agent's own step id: "init" is the router's in strings.json."""
        errors: dict[str, str] = {}
        if user_input is not None:
            directory = str(user_input.get(CONF_BUNDLE_DIR) or "").strip()
            if directory and (
                len(directory) > _PATH_MAX
                or not await self.hass.async_add_executor_job(_usable_directory, directory)
            ):
                errors[CONF_BUNDLE_DIR] = "not_a_directory"
            else:
                return self.async_create_entry(
                    data={
                        CONF_BUNDLE_DIR: directory,
                        CONF_ALLOW_DOWNGRADE: bool(user_input.get(CONF_ALLOW_DOWNGRADE, False)),
                    }
                )
        schema = vol.Schema(
            {
                vol.Optional(CONF_BUNDLE_DIR, default=""): str,
                vol.Optional(CONF_ALLOW_DOWNGRADE, default=False): bool,
            }
        )
        return self.async_show_form(
            step_id="agent",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
            errors=errors,
        )
