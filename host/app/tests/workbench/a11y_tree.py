#!/usr/bin/python3
"""Reads the accessibility tree of a running Tickwork window over AT-SPI, as a screen reader
does, and reports every interactive control without a name.

Usage: a11y_tree.py PID
Prints one line per control: ROLE<TAB>NAME<TAB>SHOWING; exits 1 when it cannot find the app,
2 when a showing control has no name (listed on stderr).
"""
import re
import sys
import time

import pyatspi

INTERACTIVE = {
    "push button", "toggle button", "check box", "radio button", "combo box", "menu button",
    "text", "entry", "password text", "spin button", "slider", "switch", "link", "list item",
    "table", "tree table", "page tab", "toggle",
}
TYPE_NAME = re.compile(r"^(Gtk|Adw)[A-Z]\w*$")


def find_app(pid, deadline):
    while time.time() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for app in desktop:
            try:
                if app is not None and app.get_process_id() == pid:
                    return app
            except Exception:
                continue
        time.sleep(0.3)
    return None


def walk(node, depth=0, out=None):
    if out is None:
        out = []
    if depth > 60:
        return out
    try:
        role = node.getRoleName()
        name = node.name or ""
        states = node.getState()
        # GTK 4.8 reports SHOWING only on the window; VISIBLE is what it keeps.
        showing = states.contains(pyatspi.STATE_VISIBLE)
    except Exception:
        return out
    out.append((role, name, showing))
    try:
        count = node.childCount
    except Exception:
        count = 0
    for i in range(min(count, 2000)):
        try:
            child = node.getChildAtIndex(i)
        except Exception:
            continue
        if child is not None:
            walk(child, depth + 1, out)
    return out


def main():
    pid = int(sys.argv[1])
    app = find_app(pid, time.time() + 20)
    if app is None:
        print(f"no accessible application with pid {pid}", file=sys.stderr)
        return 1
    nodes = walk(app)
    unnamed = []
    for role, name, showing in nodes:
        print(f"{role}\t{name}\t{showing}")
        # Without a name GTK 4.8 falls back to the type name ("GtkToggleButton"): unnamed.
        if showing and role in INTERACTIVE and (not name.strip() or TYPE_NAME.match(name)):
            unnamed.append(f"{role} '{name}'")
    if unnamed:
        print(f"{len(unnamed)} showing controls without a name: {sorted(set(unnamed))}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
