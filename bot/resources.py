"""Where the app's data files are: inside the installed package, or beside it in a checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# A wheel carries flows/ and locales/ inside the package as bot/flows and bot/locales (setup.py maps
# them there); a checkout, and an editable install of it, keeps them at the top level (DESIGN.md).
PACKAGE_DIR = Path(str(files("bot")))
CHECKOUT_ROOT = PACKAGE_DIR.parent


def _data_dir(name: str) -> Path:
    """The packaged folder `bot/<name>` when it exists (an installed wheel), else the checkout's `<name>/`."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else CHECKOUT_ROOT / name


def flows_dir() -> Path:
    """The flow definitions (YAML, and their JSON Schema)."""
    return _data_dir("flows")


def locales_dir() -> Path:
    """The gettext catalogs: `<locale>/LC_MESSAGES/messages.po` and the compiled `messages.mo`."""
    return _data_dir("locales")
