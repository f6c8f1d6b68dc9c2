#!/usr/bin/env bash
# Installs what is missing, builds Tickwork and opens the workbench in demo mode.
# Usage: dev/demo.sh [extra tickwork arguments]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_system_packages
cd "$REPO"
log "building tickwork"
cargo build --release -p tickwork
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    log "no display: running under Xvfb (add --screenshot FILE.png to capture the window)"
    exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- target/release/tickwork --demo "$@"
fi
exec target/release/tickwork --demo "$@"
