"""Small helpers shared by the `vigie` sub-command modules (opening the store, reading options, Typer's
own texts in French)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import duckdb
import typer
from rich.console import Console
from typer import core as typer_core
from typer import rich_utils
from typer._click import core as click_core
from typer._click import exceptions as click_exceptions
from typer._click import formatting as click_formatting

from analysis import store

err = Console(stderr=True)


def open_reader() -> duckdb.DuckDBPyConnection:
    """Read-only connection on the published store; a missing store exits 1 with what to run."""
    try:
        return store.connect(read_only=True)
    except store.StoreMissing as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(1) from e


def parse_date(s: str | None, opt: str) -> date | None:
    """``AAAA-MM-JJ`` option value → date (None when empty); a bad value names the option."""
    if not s:
        return None
    try:
        return datetime.strptime(s, "%Y-%m-%d").date()
    except ValueError as e:
        raise typer.BadParameter(f"date attendue au format AAAA-MM-JJ (ex. 2026-03-09), reçu « {s} »",
                                 param_hint=opt) from e


def parse_until(s: str | None, opt: str = "--until") -> date | None:
    """``--until`` is the **last day included** (« --until 2026-10-31 » covers 31 October): the
    exclusive end of the library's periods is the day after (None when empty)."""
    d = parse_date(s, opt)
    return None if d is None else d + timedelta(days=1)


# ------------------------------------------------------------------------------ French help and errors
# Typer 0.29 (pinned) prints its help and its usage errors through a vendored copy of Click whose texts
# are English and not translatable (no gettext catalogue): « Usage: », « Show this message and exit. »,
# « Missing argument 'paths'. », « Try 'vigie import --help' for help. ». french_cli() swaps them, once,
# for French ones; tests/test_french_labels.py walks every command's --help and fails on any English
# boilerplate left (a Typer upgrade that moves them shows there).
HELP_OPTION_TEXT = "Afficher cette aide et quitter."
USAGE_PREFIX = "Utilisation : "
RICH_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Abandon.",
    "RICH_HELP": "Aide : [blue]{command_path} {help_option}[/]",
    "DEFAULT_STRING": "[défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
}
# Click's messages (format_message of its exceptions) → French; the first matching pattern wins.
_ERRORS: list[tuple[str, str]] = [
    (r"^Missing argument (.+?)\.(.*)$", r"Argument manquant : \1.\2"),
    (r"^Missing option (.+?)\.(.*)$", r"Option manquante : \1.\2"),
    (r"^Missing parameter:? (.+?)\.?(.*)$", r"Paramètre manquant : \1.\2"),
    (r"^No such option: (\S+) \(Possible options: (.+)\)$", r"Option inconnue : \1 (options possibles : \2)."),
    (r"^No such option: (\S+)$", r"Option inconnue : \1."),
    (r"^No such command (.+)\.$", r"Commande inconnue : \1 (voir --help)."),
    (r"^Missing command\.$", "Commande manquante (voir --help)."),
    (r"^Got unexpected extra argument\(s\) \((.+)\)$", r"Argument en trop : \1."),
    (r"^Option (.+) requires an argument\.$", r"L'option \1 attend une valeur."),
    (r"^Option (.+) requires (\d+) arguments\.$", r"L'option \1 attend \2 valeurs."),
    (r"^Option (.+) does not take a value\.$", r"L'option \1 ne prend pas de valeur."),
    (r"^Argument (.+) takes (\d+) values\.$", r"L'argument \1 attend \2 valeurs."),
    (r"^Invalid value for (.+?): (.*)$", r"Valeur invalide pour \1 : \2"),
    (r"^Invalid value: (.*)$", r"Valeur invalide : \1"),
    (r"^Could not open file (.+?): (.*)$", r"Impossible d'ouvrir le fichier \1 : \2"),
]
# Messages of Click's value checks, inside « Valeur invalide pour … : ».
_VALUES: list[tuple[str, str]] = [
    (r"Input should be a valid integer.*", "nombre entier attendu."),
    (r"Input should be a valid (number|float|decimal).*", "nombre attendu."),
    (r"Input should be a valid (boolean|bool).*", "oui ou non attendu (true/false)."),
    (r"Input should be a valid date.*", "date attendue au format AAAA-MM-JJ."),
    (r"Input should be (.+)", r"valeurs possibles : \1."),
    (r"(.+) is not a valid (integer|int)\.?", r"\1 n'est pas un nombre entier."),
    (r"(.+) is not a valid (float|number)\.?", r"\1 n'est pas un nombre."),
    (r"(.+) is not a valid (boolean|bool)\.?", r"\1 n'est ni oui ni non."),
    (r"(.+) is not one of (.+)\.", r"\1 n'est pas une valeur possible (\2)."),
    (r"(.+) does not match the formats? (.+)\.", r"\1 ne suit pas le format \2."),
    (r"(File|Directory|Path) (.+) does not exist\.", r"le chemin \2 n'existe pas."),
    (r"(File|Directory|Path) (.+) is a directory\.", r"\2 est un dossier."),
    (r"(File|Directory|Path) (.+) is a file\.", r"\2 est un fichier."),
]


# Type labels of the help (« <str> », « <list[str]> »): Python names, in French words.
_TYPES = {"str": "texte", "int": "entier", "float": "nombre", "bool": "oui/non", "Path": "chemin", "path": "chemin",
          "datetime": "date", "file": "fichier", "dir": "dossier", "directory": "dossier", "range": "intervalle"}


def french_type(label: str | None) -> str | None:
    """``<str>`` → ``<texte>``, ``<list[str]>`` → ``<texte…>`` (an option given several times)."""
    if not label:
        return label
    label = re.sub(r"list\[(.+?)\]", r"\1…", label)
    return re.sub(r"\b(" + "|".join(_TYPES) + r")\b", lambda m: _TYPES[m.group(1)], label)


def french_message(message: str) -> str:
    """One of Click's English error messages in French (unchanged when it is not one of them)."""
    for pattern, repl in _ERRORS:
        if re.match(pattern, message, flags=re.S):
            message = re.sub(pattern, repl, message, count=1, flags=re.S)
            break
    for pattern, repl in _VALUES:
        message = re.sub(pattern, repl, message, count=1)
    if "valeurs possibles :" in message:
        message = message.replace(" or ", " ou ")
    return message


def french_cli() -> None:
    """Typer's and Click's own texts in French (help, usage line, errors). Idempotent."""
    if getattr(french_cli, "done", False):
        return
    for name, text in RICH_TEXTS.items():
        setattr(rich_utils, name, text)

    write_usage = click_formatting.HelpFormatter.write_usage

    def french_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:  # noqa: ANN001
        args = args.replace("COMMAND [ARGS]...", "COMMANDE [ARGUMENTS]...")
        write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    click_formatting.HelpFormatter.write_usage = french_usage

    get_help_option = click_core.Command.get_help_option

    def french_help_option(self, ctx):  # noqa: ANN001, ANN202 - click's signature
        opt = get_help_option(self, ctx)
        if opt is not None:
            opt.help = HELP_OPTION_TEXT
        return opt

    click_core.Command.get_help_option = french_help_option

    format_error = rich_utils.rich_format_error

    def french_error(e: click_exceptions.ClickException) -> None:
        message = french_message(e.format_message())
        e.format_message = lambda: message
        format_error(e)

    rich_utils.rich_format_error = french_error

    display_type = typer_core._TyperParameter.display_type
    typer_core._TyperParameter.display_type = lambda self, ctx: french_type(display_type(self, ctx))
    option_type = typer_core.TyperOption.display_type_rich

    def flag_without_type(self, ctx):  # noqa: ANN001, ANN202 - click's signature
        # a flag takes no value: « --json » alone, not « --json <oui/non> »
        return None if self.is_flag and self.metavar is None else option_type(self, ctx)

    typer_core.TyperOption.display_type_rich = flag_without_type
    rich_utils.highlighter.highlights = [*rich_utils.highlighter.highlights, r"(?P<usage>Utilisation : )"]
    french_cli.done = True


YES, NO = {"o", "oui", "y", "yes"}, {"n", "non", "no"}


def confirm(question: str, default: bool = False) -> bool:
    """A yes/no question in French (Click's own says « [y/N] » and « Error: invalid input »): « o » or
    « oui », « n » or « non » (the English letters are accepted too); Entrée gives the default; an
    answer not understood asks again, saying what is expected; Ctrl-D or Ctrl-C abandons."""
    hint = "[O/n]" if default else "[o/N]"
    while True:
        answer = typer.prompt(f"{question} {hint}", default="", show_default=False,
                              prompt_suffix=" ").strip().lower()
        if not answer:
            return default
        if answer in YES:
            return True
        if answer in NO:
            return False
        typer.echo("Réponse non comprise : tapez o (oui) ou n (non).", err=True)
