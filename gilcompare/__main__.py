"""`python -m gilcompare` is the `gilcompare` command."""

from gilcompare.cli import main

raise SystemExit(main())
