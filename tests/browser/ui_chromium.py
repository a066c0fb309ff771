"""Debian's Chromium for Playwright: one path and one set of flags for tests, benchmarks and screenshots."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
#: Headless, sandbox off (root), and nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """Start Debian's Chromium (never a downloaded browser) with the flags above."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
