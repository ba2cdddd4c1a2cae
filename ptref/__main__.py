"""``python -m ptref`` is the same CLI as the ``ptref`` console script."""

from ptref.cli import main

if __name__ == "__main__":
    main()
