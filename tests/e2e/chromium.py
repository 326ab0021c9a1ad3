"""Where the system Chromium is, and how it is started (no downloads, no background traffic)."""

import os
import shutil
import subprocess

CHROMIUM = os.environ.get("COCREATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    path = shutil.which(CHROMIUM)
    return path if path and os.access(path, os.X_OK) else None


def chromium_version(path: str) -> str:
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return f"version unknown ({error.__class__.__name__})"
    return result.stdout.strip() or "version unknown"


def describe() -> str:
    path = chromium_path()
    return f"chromium: {path} ({chromium_version(path)})" if path else f"chromium: {CHROMIUM} not found"
