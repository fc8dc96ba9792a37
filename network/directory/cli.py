"""`flask --app app directory ...`: import and export the directory, remind focal points of stale entries."""
from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

directory_cli = AppGroup("directory", help="The directory of competent national authorities.")


def register_directory_commands(app: Flask) -> None:
    app.cli.add_command(directory_cli)
