"""Paired mode for the fake devices: the firmware's own verifier decides, as on the board
(docs/protocol.md, "Authentication"). State-changing SOAP actions and every SUBSCRIBE /
renewal / UNSUBSCRIBE must carry a valid UG-AUTH; a signed read is checked too (that is
how the config flow tests a key)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMockResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))
from upnpguard import auth as firmware_auth


class PairedCheck:
    """One fake agent's key, boot id and refusals."""

    def __init__(self, key_base64: str, boot_id: int) -> None:
        secret = firmware_auth.parse_key(key_base64)
        self.verifier = firmware_auth.Verifier(firmware_auth.Key(secret), boot_id)
        self.refused: list[str] = []
        self.key_base64 = key_base64  # the key the agent holds now (SetKey replaces it)

    def refusal(
        self, method: str, url: Any, data: Any, request_headers: dict[str, Any] | None
    ) -> AiohttpClientMockResponse | None:
        """A 401 as the paired agent answers it, or None to go on."""
        headers = {str(k).upper(): str(v) for k, v in (request_headers or {}).items()}
        soap_action = headers.get("SOAPACTION", "")
        read_only = method.upper() == "POST" and "#Get" in soap_action
        if read_only and firmware_auth.HEADER not in headers:
            return None
        body = data if isinstance(data, bytes) else str(data or "").encode()
        reason = self.verifier.check(method.upper(), str(url.path), headers, body)
        if reason is None:
            return None
        self.refused.append(reason)
        extra: dict[str, str] = {}
        if reason == firmware_auth.WRONG_BOOT:
            extra["UG-AUTH-BOOT"] = str(self.verifier.boot_id)
        if reason == firmware_auth.REPLAYED:
            extra["UG-AUTH-LAST"] = str(self.verifier.highest)
        return AiohttpClientMockResponse(method, url, status=401, headers=extra)

    def rotate(self, sealed_hex: str, request_headers: dict[str, Any] | None) -> None:
        """SetKey (after `refusal` let it through): unseal with the current key, bound to
        the boot id and counter of the request's own UG-AUTH, as the agent's guard does."""
        headers = {str(k).upper(): str(v) for k, v in (request_headers or {}).items()}
        parsed = firmware_auth.parse_header(headers[firmware_auth.HEADER])
        assert parsed is not None
        boot_id, counter, _mac = parsed
        key = self.verifier.key
        secret = key.unwrap(bytes.fromhex(sealed_hex), boot_id, counter)
        self.verifier.key = firmware_auth.Key(secret)
        self.key_base64 = firmware_auth.format_key(secret)
