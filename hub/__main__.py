"""`python -m hub` is the `knutpunkt` command."""

from hub.cli import main

main()
