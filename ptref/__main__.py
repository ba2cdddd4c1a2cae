"""``python -m ptref`` is the same CLI as the ``ptref`` console script (and exits with its status)."""

from ptref.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
