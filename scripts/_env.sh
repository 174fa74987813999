# Shared by scripts/setup, scripts/test, scripts/lint: where the environment lives and
# how to enter it. Sourced, not executed.
#
# Two modes:
#   host     the host already has Python >= 3.14.2, micropython, miniupnpd, upnpc,
#            gssdp-discover: a virtualenv in .venv/ is enough.
#   sandbox  otherwise (as root on Debian/Ubuntu): a Debian forky root file system built
#            with debootstrap in .sandbox/root, entered with chroot.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${UPNP_GUARD_STATE:-$REPO/.sandbox}"
ROOT="$STATE/root"
SUITE="forky"
MIRROR="${UPNP_GUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Debian packages the tests use inside the sandbox (real parts, see DESIGN.md).
SANDBOX_PACKAGES="python3.14 python3.14-venv micropython miniupnpd-nftables miniupnpc \
gssdp-tools gupnp-tools iproute2 nftables tcpdump procps psmisc"
# scripts/develop and the browser test: Debian's Chromium (driven by Playwright for Python,
# pointed at /usr/bin/chromium: no browser downloads) and what builds the two Python
# packages of Home Assistant's voice pipeline that have no wheel for Python 3.14. Installed
# into an existing sandbox without rebuilding it (scripts/setup, add-on step).
SANDBOX_BROWSER_PACKAGES="chromium fonts-liberation g++ python3.14-dev"
# Newer MicroPython releases than Debian's, as the npm registry's WebAssembly builds run by
# Node.js (tests/firmware/test_wasm*.py): Debian's node and npm, an add-on like the above.
# The npm packages go to $SANDBOX_WASM_DIR (scripts/setup, versions in scripts/wasm.json).
SANDBOX_NODE_PACKAGES="nodejs npm"
SANDBOX_WASM_DIR=/opt/micropython-wasm
# The MicroPython ESP32 type stubs (requirements_stubs.txt), kept out of the venv: they
# ship their own stdlib (socket, time, ...) that must not shadow CPython's for mypy.
SANDBOX_STUBS_DIR=/opt/micropython-stubs
# What scripts/build-firmware needs to build the unix port (64- and 32-bit) from the source
# of the micropython release above, with the agent frozen in.
SANDBOX_BUILD_PACKAGES="dpkg-dev xz-utils gcc gcc-multilib make libc6-dev pkgconf libffi-dev \
libmbedtls-dev"
# Where the sandbox keeps that source (apt-get source; `tree` links to the unpacked tree).
SANDBOX_MICROPYTHON_SRC=/opt/micropython-src
SANDBOX_VENV=/opt/venv
SANDBOX_REPO=/repo

log() { printf '[upnp-guard] %s\n' "$*" >&2; }

env_mode() {
    cat "$STATE/mode" 2>/dev/null || true
}

# Mount what a chroot needs. The root is bind-mounted onto itself because
# `ip netns exec` remounts / with --make-rslave, which fails unless / is a mount point.
sandbox_mount() {
    mountpoint -q "$ROOT" || mount --bind "$ROOT" "$ROOT"
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    if ! mountpoint -q "$ROOT/sys"; then
        mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys"
    fi
    if ! mountpoint -q "$ROOT/dev"; then
        mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev"
    fi
    mountpoint -q "$ROOT/run" || mount -t tmpfs -o mode=755 tmpfs "$ROOT/run"
    mkdir -p "$ROOT$SANDBOX_REPO"
    mountpoint -q "$ROOT$SANDBOX_REPO" || mount --bind "$REPO" "$ROOT$SANDBOX_REPO"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

# True while any process runs chrooted in the sandbox (ad-hoc commands included).
sandbox_busy() {
    local proc
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ] && return 0
    done
    return 1
}

sandbox_umount() {
    # Never pull the mounts from under another command still using the sandbox.
    sandbox_busy && return 0
    if mountpoint -q "$ROOT"; then
        umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT" || true
    fi
}

# Run a command inside the sandbox with a clean environment.
sandbox_exec() {
    chroot "$ROOT" /usr/bin/env -i \
        PATH="$SANDBOX_VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
        UPNP_GUARD_SCREENSHOTS="${UPNP_GUARD_SCREENSHOTS:-}" UPNP_GUARD_EXAMPLES="${UPNP_GUARD_EXAMPLES:-}" \
        UPNP_GUARD_SOAK_S="${UPNP_GUARD_SOAK_S:-}" \
        UPNP_GUARD_ENV=sandbox PYTHONDONTWRITEBYTECODE=1 \
        "$@"
}

# Re-run the calling script inside the environment unless already there.
# Usage at the top of a script: enter_env "$0" "$@"
# Several commands may use the sandbox at once (a shared flock on .sandbox/mount.lock);
# the first one in mounts, the last one out removes the mounts.
enter_env() {
    local script="$1"; shift
    [ -n "${UPNP_GUARD_ENV:-}" ] && return 0
    case "$(env_mode)" in
        sandbox)
            local rc=0 lockfd
            exec {lockfd}>"$STATE/mount.lock"
            flock -s "$lockfd"
            # Mount under the exclusive lock only when needed: a long-running user of the
            # sandbox (scripts/develop) must not block scripts/test and scripts/lint.
            if ! mountpoint -q "$ROOT$SANDBOX_REPO"; then
                flock -x "$lockfd"
                sandbox_mount
                flock -s "$lockfd"
            fi
            sandbox_exec "$SANDBOX_REPO/${script#"$REPO"/}" "$@" || rc=$?
            if flock -x -n "$lockfd"; then
                sandbox_umount
            fi
            exit "$rc" ;;
        host)
            export UPNP_GUARD_ENV=host
            export PATH="$REPO/.venv/bin:$PATH" ;;
        *)
            log "no environment yet: run scripts/setup first"
            exit 1 ;;
    esac
}
