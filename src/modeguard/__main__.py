"""``python -m modeguard`` is the ``modeguard`` command."""

from modeguard.cli import main

if __name__ == "__main__":
    main()
