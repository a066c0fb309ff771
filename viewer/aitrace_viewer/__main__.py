"""``python -m aitrace_viewer serve …``: the ``aitrace`` command."""

from aitrace_core.cli import main

if __name__ == "__main__":
    main()
