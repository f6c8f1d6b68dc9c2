#!/usr/bin/env bash
# Installs what is missing and runs every check CI runs: formatting, clippy, and the whole
# test suite against a real PostgreSQL, a real keyring and real GTK windows under Xvfb.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_system_packages
cd "$REPO"
ensure_test_postgres
ensure_python_ibapi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "building tests"
cargo test --workspace --locked --no-run

log "running tests (dbus session + gnome-keyring + Xvfb)"
exec dbus-run-session -- bash -c '
    set -euo pipefail
    # A fresh, unlocked keyring in a throwaway directory: never the user'"'"'s own.
    keyring_home="$(mktemp -d)"
    eval "$(printf "\n" | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
    xvfb-run -a -s "-screen 0 1280x800x24" env GSK_RENDERER=cairo cargo test --workspace --locked "$@"
' bash "$@"
