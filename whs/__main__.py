"""`python -m whs` is the same as `whs`."""

from whs.cli import main

main()
