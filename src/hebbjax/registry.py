"""Name registries: strings live only at the edge (CLI, configs); the library passes objects.

An unknown name raises a ``ValueError`` that lists every valid name, so the CLI can print it
as one line and exit with code 2.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered mapping from kebab-case names to factories, with helpful errors.

    A *family* serves every name with a prefix: ``register_family("gymnax:", make,
    members)`` makes ``get("gymnax:CartPole-v1")`` return ``partial(make, "CartPole-v1")``
    for each member (``members()`` lists the valid suffixes, read lazily).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._families: dict[str, tuple[Callable, Callable[[], list[str]]]] = {}

    def register_family(
        self, prefix: str, factory: Callable, members: Callable[[], list[str]]
    ) -> None:
        """Serve ``prefix + member`` with ``factory(member, **kwargs)``."""
        if prefix in self._families:
            raise ValueError(f"{self.kind} family {prefix!r} is already registered")
        self._families[prefix] = (factory, members)

    def _family_get(self, name: str) -> T | None:
        for prefix, (factory, members) in self._families.items():
            if name.startswith(prefix):
                member = name[len(prefix) :]
                valid = members()
                if member not in valid:
                    close = difflib.get_close_matches(member, valid, n=1)
                    hint = f" (did you mean {prefix + close[0]!r}?)" if close else ""
                    raise ValueError(
                        f"unknown {self.kind} {name!r}{hint}; valid {prefix}NAME: "
                        + ", ".join(valid)
                    )
                return functools.partial(factory, member)
        return None

    def families(self) -> list[str]:
        """The family prefixes, e.g. ``["gymnax:"]``."""
        return list(self._families)

    def register(self, name: str, item: T | None = None) -> Callable[[T], T] | T:
        """Register ``item`` under ``name``; without ``item``, works as a decorator."""

        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return add if item is None else add(item)

    def get(self, name: str) -> T:
        if not isinstance(name, str):
            raise ValueError(f"a {self.kind} name must be a string, got {name!r}")
        if name in self._items:
            return self._items[name]
        member = self._family_get(name)
        if member is not None:
            return member
        close = difflib.get_close_matches(name, self._items, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        families = "".join(f", {prefix}NAME" for prefix in self._families)
        raise ValueError(
            f"unknown {self.kind} {name!r}{hint}; valid {self.kind} names: "
            + ", ".join(self._items)
            + families
        )

    __getitem__ = get

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        if name in self._items:
            return True
        if not isinstance(name, str):
            return False
        try:
            return self._family_get(name) is not None
        except ValueError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
