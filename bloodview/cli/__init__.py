"""The ``bloodview`` command. Each sub-command lives in its own ``cmd_*.py`` module."""
