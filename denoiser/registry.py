"""Registries of named specs (datasets, models, noise kinds, baselines), with one way to look a name up.

Every registry fails the same way on a name it does not hold (`UnknownName`, whose message
lists the choices), and gives every CLI the same argparse types, so a wrong name is refused
before any work starts.
"""

from __future__ import annotations

import argparse
from typing import Dict, Iterable, Protocol, TypeVar


class Named(Protocol):
    name: str


T = TypeVar("T", bound=Named)


class UnknownName(ValueError):
    """A name that is not in a registry; the message names the registry's choices."""


class Registry(Dict[str, T]):
    """A dict of specs by name, in the order given, that knows what it holds ("dataset", "model"...)."""

    def __init__(self, what: str, specs: Iterable[T]):
        super().__init__((spec.name, spec) for spec in specs)
        self.what = what

    def lookup(self, name: str) -> T:
        try:
            return self[name]
        except (KeyError, TypeError):
            raise UnknownName(f"Unknown {self.what} {name!r}; choose one of {', '.join(self)}.") from None

    def arg(self, text: str) -> str:
        """argparse type: one name of this registry."""
        try:
            return self.lookup(text).name
        except UnknownName as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    def args(self, text: str) -> list[str]:
        """argparse type: comma-separated names of this registry; empty for none."""
        return [self.arg(name) for name in text.split(",") if name]
