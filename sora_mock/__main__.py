"""``python -m sora_mock`` runs the command line."""

from sora_mock.cli import run

run()
