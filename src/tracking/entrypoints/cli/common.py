"""What every command shares, light enough for `--help` to answer at once: settings read once
(what is wrong said in one line), the `--storage` choices, and the defaults of flags as this
environment makes them. What a command runs on is in `running.py`, imported when it runs."""

import logging
import os
from collections.abc import Callable
from typing import Any

import click
from click.types import OptionHelpExtra

from tracking.entrypoints.logs import configure_logging
from tracking.settings import (
    PREFIX,
    OverrideError,
    Settings,
    SettingsError,
    load_settings,
    unknown_variables,
)

log = logging.getLogger(__name__)

DATABASES = click.Choice(["embedded", "postgres"])
"""`--storage` of the commands that need a database."""
ANY_STORAGE = click.Choice(["embedded", "postgres", "memory"])
# The flag that overrides each setting, to name it when its value is wrong.
_FLAGS = {"storage": "--storage", "http_host": "--host", "http_port": "--port"}


def load(**overrides: object) -> Settings:
    """The settings, or one line naming the variable (or the flag) that is wrong; at DEBUG
    under `tracking -v`."""
    if _verbose():
        overrides["log_level"] = "DEBUG"
    try:
        settings = load_settings(os.environ, **overrides)
    except OverrideError as error:
        flag = _FLAGS.get(error.setting, error.variable)
        raise click.BadParameter(error.problem, param_hint=f"'{flag}'") from None
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings)
    for name in unknown_variables(os.environ):
        log.warning("ignoring %s: it names no setting", name)
    return settings


def _verbose() -> bool:
    """`tracking -v COMMAND`: the group's flag, read by the command it runs."""
    context = click.get_current_context(silent=True)
    return context is not None and bool(context.find_root().params.get("verbose"))


class FromEnvironment(click.Option):
    """A flag that overrides a setting: its `--help` shows the default this environment gives
    it (`shown`), read when the help is."""

    def __init__(self, *args: Any, shown: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown = shown

    def get_help_extra(self, ctx: click.Context) -> OptionHelpExtra:
        extra = super().get_help_extra(ctx)
        extra["default"] = self.shown()
        return extra


def environment_default(setting: str) -> Callable[[], str]:
    """What leaving out the flag of `setting` means: its variable's value, else its default."""
    variable = PREFIX + setting.upper()

    def shown() -> str:
        value = os.environ.get(variable)
        if value:
            return f"{value}, from {variable}"
        return str(getattr(Settings(), setting))

    return shown


def storage_default() -> str:
    """What leaving out `--storage` means, by the rule of `Settings.storage_kind`."""
    value = os.environ.get(f"{PREFIX}STORAGE")
    if value:
        return f"{value}, from {PREFIX}STORAGE"
    if os.environ.get(f"{PREFIX}DATABASE_URL"):
        return f"postgres, as {PREFIX}DATABASE_URL is set"
    return Settings().storage_kind
