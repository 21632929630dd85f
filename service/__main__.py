"""Run the command line as ``python -m service``: the same as the ``stadmaken`` command."""

from service.cli import app

app(prog_name="stadmaken")
