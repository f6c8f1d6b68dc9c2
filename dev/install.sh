#!/usr/bin/env bash
# Installs the workbench for the current user so it shows up in the GNOME launcher: the binary,
# its .desktop file, AppStream metainfo and icon, under PREFIX (default ~/.local).
#
#   dev/install.sh              build (release) and install into ~/.local
#   dev/install.sh --uninstall  remove what it installed
#
# PREFIX=/usr/local sudo -E dev/install.sh installs system-wide. TICKWORK_BIN=path installs an
# already built binary instead of building one.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
APP_ID="org.tickwork.Tickwork"

files=(
    "bin/tickwork"
    "share/applications/$APP_ID.desktop"
    "share/metainfo/$APP_ID.metainfo.xml"
    "share/icons/hicolor/scalable/apps/$APP_ID.svg"
)

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$PREFIX/share/applications" 2>/dev/null || true
    fi
    if command -v gtk4-update-icon-cache >/dev/null 2>&1; then
        gtk4-update-icon-cache -q -t -f "$PREFIX/share/icons/hicolor" 2>/dev/null || true
    fi
}

case "${1:-}" in
    --uninstall)
        for f in "${files[@]}"; do rm -f "$PREFIX/$f"; done
        refresh_caches
        echo "tickwork: removed from $PREFIX"
        exit 0
        ;;
    "") ;;
    *)
        echo "dev/install.sh: unknown argument \`$1\` (expected nothing or --uninstall)" >&2
        exit 2
        ;;
esac

bin="${TICKWORK_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --locked -p tickwork --manifest-path "$REPO/Cargo.toml"
    bin="$REPO/target/release/tickwork"
fi
if [ ! -x "$bin" ]; then
    echo "dev/install.sh: no executable at $bin" >&2
    exit 1
fi

install -Dm755 "$bin" "$PREFIX/bin/tickwork"
# The launcher runs the installed binary by its full path: ~/.local/bin is not on every PATH.
sed "s|^Exec=tickwork$|Exec=$PREFIX/bin/tickwork|" "$REPO/data/$APP_ID.desktop" \
    | install -Dm644 /dev/stdin "$PREFIX/share/applications/$APP_ID.desktop"
install -Dm644 "$REPO/data/$APP_ID.metainfo.xml" "$PREFIX/share/metainfo/$APP_ID.metainfo.xml"
install -Dm644 "$REPO/data/icons/hicolor/scalable/apps/$APP_ID.svg" \
    "$PREFIX/share/icons/hicolor/scalable/apps/$APP_ID.svg"
refresh_caches
echo "tickwork: installed into $PREFIX (find it as Tickwork in the launcher)"
