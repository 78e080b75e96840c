"""The ``sora-mock`` subcommands, one module each (see :mod:`sora_mock.cli`)."""
