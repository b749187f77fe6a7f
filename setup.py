"""Build hooks: flows/ and locales/ travel inside the package (bot/flows, bot/locales), catalogs compiled."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# The checkout keeps flows/ and locales/ at the top level (DESIGN.md); the wheel puts them inside `bot`.
DATA_PACKAGES = {"bot.flows": "flows", "bot.locales": "locales"}


class BuildPyWithCatalogs(build_py):
    """build_py that also compiles the gettext catalogs (.po -> .mo) into the built package."""

    def run(self) -> None:
        """Copy the package as usual, then compile its catalogs next to their sources."""
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's locales/, compiled by `make`
        from babel.messages.frontend import CommandLineInterface

        locales = Path(self.build_lib, "bot", "locales")
        if CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(locales)]):
            raise SystemExit(f"compiling the catalogs in {locales} failed")


setup(
    packages=[*find_packages(include=["bot", "bot.*"]), *DATA_PACKAGES],
    package_dir=DATA_PACKAGES,
    cmdclass={"build_py": BuildPyWithCatalogs},
)
