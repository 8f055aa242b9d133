"""The `knutpunkt` command line (contract.md: Command line). Exit: 0 ok, 1 invalid input, 2 usage/I-O."""

from __future__ import annotations

import sys

from hub.cli import _bench, _convert, _demo, _serve, _token, audit, terminology, validate  # noqa: F401  (register commands)
from hub.cli._app import app


def main() -> None:
    try:
        app(standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        # click reports usage errors with exit status 2 already; keep 0/1/2 as the contract says
        sys.exit(code if isinstance(code, int) else 2)


__all__ = ["app", "main"]
