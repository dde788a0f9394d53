"""How an aggregate is copied out of the application's cache for a command.

copy.deepcopy of a record would copy every access and plan - more work than reading its
events again. Their state is immutable values (frozen dataclasses, str, int, None, enums)
held directly or in lists, dicts and sets, or in a value that makes its own copy (`copied`),
so copying those is a full copy: the command can change the copy freely and the cached
record is untouched.
"""

from __future__ import annotations

from typing import Any, Self


def _fresh(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, set):
        return set(value)
    copied = getattr(value, "copied", None)  # a mutable value of the domain's own
    return copied() if callable(copied) else value


class CopiedByContainers:
    """Mixin: deepcopy makes new containers and shares the immutable values in them."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        copied = object.__new__(type(self))
        copied.__dict__.update({name: _fresh(v) for name, v in self.__dict__.items()})
        return copied
