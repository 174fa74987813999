"""What the docs must say about limits and timings, as templates over the code's constants
(`{NAME}` or `{expression:format}`, rendered like an f-string by tests/test_docs_code.py):
a limit changed in the code fails there until the doc says the new value. Data only."""

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
    "docs/appliances.md": (
        "our agent takes {GENA_MAX_SUBSCRIPTIONS_PER_SERVICE} per service "
        "({GENA_MAX_SUBSCRIPTIONS_TOTAL} in all) and answers 503 beyond",
        "(our agent serves {HTTP_MAX_CONNECTIONS} HTTP connections in all)",
        "our agent grants {GENA_MAX_SUBSCRIPTIONS_PER_SERVICE} per service",
    ),
    "docs/troubleshooting.md": ("(239.255.255.250:1900, TTL {SSDP_MULTICAST_TTL})",),
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
    "docs/automations.md": (
        "`events_suppressed` (one refresh had more than {MAX_EVENTS_PER_REFRESH} events",
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
