"""`vigie users …`, `vigie privacy erase …`, `vigie purge …`, `vigie audit` (merged at top level of `vigie`)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analysis import audit, derived_refresh, privacy, retention, store, users
from analysis.cli.common import confirm, open_reader
from analysis.cli.parquet import parquet_exports
from analysis.fmt import fr_int

app = typer.Typer(add_completion=False)
console = Console()
err = Console(stderr=True)

users_app = typer.Typer(help="Comptes de l'application (rôles élu, analyste, admin).", no_args_is_help=True)
privacy_app = typer.Typer(help="Droits des personnes (effacement).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(privacy_app, name="privacy")

ROLE_LABELS = {"elu": "élu·e", "analyste": "analyste", "admin": "admin"}


def _account(name: str, detail: str) -> None:
    """The audit log of an administrator's change to an account (who ran the command, never a password)."""
    u = users.load_users().get(name.strip().lower())
    audit.AuditLog().record("account", user=name.strip().lower(), role=u.role if u else "",
                            scope=u.scope if u else None, via="ligne de commande",
                            detail=f"{detail} (par {audit.operator()})")


def _scope_text(scope: tuple[str, ...] | None) -> str:
    return "tous" if scope is None else ", ".join(scope)


def _password(stdin: bool) -> str:
    if stdin:  # scripts and tests: one line on standard input
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")


def _fail(e: Exception) -> None:
    err.print(f"[red]✗[/] {e}")
    raise typer.Exit(1)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Identifiant de connexion (ex. camille.durand)."),
    role: str = typer.Option(..., "--role", "-r", help=users.ROLE_HELP),
    scope: str = typer.Option(None, "--scope", "-s", help="Territoires visibles, séparés par des virgules "
                              "(ex. saint-aubin,port-marel) ; sans cette option : tous (administrateurs de "
                              "l'hébergement)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Lire le mot de passe sur l'entrée standard."),
) -> None:
    """Créer un compte (mot de passe haché avec bcrypt, jamais stocké en clair)."""
    try:
        u = users.add_user(name, role, _password(password_stdin), scope=scope)
    except users.UserError as e:
        _fail(e)
    _account(u.name, f"créé, rôle {u.role}, territoires {_scope_text(u.scope)}")
    console.print(f"Compte « {u.name} » créé, rôle {ROLE_LABELS[u.role]}, territoires : {_scope_text(u.scope)} "
                  f"({users.users_path()}).")


@users_app.command("list")
def users_list() -> None:
    """Lister les comptes et leur rôle."""
    try:
        all_users = users.load_users()
    except users.UserError as e:
        _fail(e)
    t = Table(title=f"Comptes ({users.users_path()})")
    for c in ("Identifiant", "Rôle", "Territoires", "Créé le"):
        t.add_column(c)
    for u in all_users.values():
        t.add_row(u.name, ROLE_LABELS[u.role], _scope_text(u.scope), u.created_at.replace("T", " "))
    console.print(t)


@users_app.command("scope")
def users_scope(
    name: str = typer.Argument(...),
    territories: str = typer.Argument(None, help="Territoires, séparés par des virgules (ex. saint-aubin,port-marel)."),
    every: bool = typer.Option(False, "--tous", "--all", help="Tous les territoires (administrateurs de l'hébergement)."),
) -> None:
    """Changer les territoires qu'un compte peut voir (ses sessions ouvertes sont fermées)."""
    if bool(territories) == every:
        _fail(users.UserError("Donnez des territoires (saint-aubin,port-marel) ou --tous."))
    try:
        u = users.set_access(name, scope=territories, every_territory=every)
    except users.UserError as e:
        _fail(e)
    _account(u.name, f"territoires : {_scope_text(u.scope)}")
    console.print(f"« {u.name} » voit désormais : {_scope_text(u.scope)}. Ses sessions ouvertes sont fermées.")


@users_app.command("role")
def users_role(name: str = typer.Argument(...), role: str = typer.Argument(..., help=users.ROLE_HELP)) -> None:
    """Changer le rôle d'un compte (ses sessions ouvertes sont fermées)."""
    try:
        u = users.set_access(name, role=role)
    except users.UserError as e:
        _fail(e)
    _account(u.name, f"rôle : {u.role}")
    console.print(f"« {u.name} » a désormais le rôle {ROLE_LABELS[u.role]}. Ses sessions ouvertes sont fermées.")


@users_app.command("remove")
def users_remove(name: str = typer.Argument(...)) -> None:
    """Supprimer un compte."""
    try:
        _account(name, "supprimé")
        users.remove_user(name)
    except users.UserError as e:
        _fail(e)
    console.print(f"Compte « {name} » supprimé.")


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Lire le mot de passe sur l'entrée standard."),
) -> None:
    """Changer le mot de passe d'un compte."""
    try:
        users.set_password(name, _password(password_stdin))
    except users.UserError as e:
        _fail(e)
    _account(name, "mot de passe changé")
    console.print(f"Mot de passe de « {name} » changé.")


@users_app.command("logout")
def users_logout(name: str = typer.Argument(...)) -> None:
    """Déconnecter un compte de toutes ses sessions ouvertes (ordinateur perdu, départ…)."""
    try:
        if name.strip().lower() not in users.load_users():
            raise users.UserError(f"Utilisateur inconnu « {name} ».")
        users.Throttle().revoke(name)
    except users.UserError as e:
        _fail(e)
    _account(name, "déconnecté partout")
    console.print(f"Toutes les sessions de « {name} » sont fermées (à leur prochaine page).")


def _print_counts(title: str, rep: retention.DeletionReport) -> None:
    t = Table(title=title)
    t.add_column("Table")
    t.add_column("Lignes supprimées", justify="right")
    for k, v in rep.counts.items():
        t.add_row(k, fr_int(v))
    console.print(t)


def _copies_report(stale: list) -> None:
    """What the erasure or purge reached besides the store, and what it cannot reach."""

    db = store.db_path()
    lines = [f"Appliqué à la base {db} (réécrite : aucun octet des lignes supprimées n'y reste) et à sa "
             f"copie de lecture {store.read_path(db)} (republiée) ; la copie d'avant {store.prev_path(db).name} "
             f"est supprimée."]
    if stale:
        lines.append(f"{len(stale)} copie{'s' if len(stale) > 1 else ''} temporaire{'s' if len(stale) > 1 else ''} "
                     "de la base laissée" + ("s" if len(stale) > 1 else "") + " par une opération interrompue "
                     "supprimée" + ("s" if len(stale) > 1 else "") + " : " + ", ".join(str(f.name) for f in stale) + ".")
    for line in lines:
        console.print(line, soft_wrap=True)
    exports = parquet_exports(db)
    for e in exports:
        err.print(f"[yellow]![/] Export Parquet {escape(e['path'])} (écrit le {e['at'][:10]}) : il contient encore "
                  f"ces données. Réexportez-le (`vigie parquet export {escape(e['path'])}`, qui remplace les tables) "
                  "ou supprimez-le, ainsi que ses copies sur d'autres machines.", soft_wrap=True)
    err.print("[yellow]![/] Hors de portée de Vigie : les fichiers d'export d'origine (CSV, XLSX, ZIP), les rapports "
              "déjà envoyés et les sauvegardes de la base.", soft_wrap=True)


@privacy_app.command("erase")
def privacy_erase(
    author: str = typer.Option(None, "--author", help="Pseudonyme de l'auteur (a_…), tel qu'affiché aux analystes."),
    name: str = typer.Option(None, "--name", help="Nom affiché de l'auteur."),
    yes: bool = typer.Option(False, "--yes", help="Ne pas demander de confirmation."),
) -> None:
    """Droit à l'effacement : supprimer les messages d'un auteur et tout ce qui en dérive (journalisé)."""
    if not author and not name:
        _fail(ValueError("Indiquez --author HASH ou --name NOM."))
    if not yes and not confirm("Supprimer définitivement les messages de cet auteur ?"):
        raise typer.Exit(1)
    stale = store.stale_copies()
    try:
        with derived_refresh.writer(compact=True) as con:
            rep = retention.erase_author(con, author_hash=author, name=name)
    except privacy.KeyChanged as e:
        _fail(e)
    _print_counts("Effacement", rep)
    if rep.messages == 0:
        err.print("[yellow]![/] Aucun message trouvé pour cet auteur.")
    n = rep.counts.get("erased_authors", 0)
    console.print(f"Pseudonyme{'s' if n > 1 else ''} inscrit{'s' if n > 1 else ''} dans la liste des personnes "
                  "effacées (jamais leur nom) : aucun import ultérieur ni aucune collecte ne réintroduira ses "
                  "messages ni sa fiche de compte, même depuis un export qui les contient encore.", soft_wrap=True)
    _copies_report(stale)


@privacy_app.command("key")
def privacy_key(
    rotated: bool = typer.Option(False, "--rotated", help="La clé actuelle remplace celle de la base (rotation "
                                 "voulue, docs/privacy.md section 6) ; journalisé."),
    yes: bool = typer.Option(False, "--yes", help="Ne pas demander de confirmation."),
) -> None:
    """Clé de pseudonymisation : celle de la base (son empreinte) et celle d'ici ; après une rotation voulue,
    --rotated l'enregistre (les imports refusent sinon une autre clé que celle de la base)."""
    try:
        here = privacy.key_check()
    except privacy.KeyRefused as e:
        _fail(e)
    if not rotated:
        con = open_reader()
        try:
            got = privacy.recorded_key_check(con)
        finally:
            con.close()
        if got is None:
            console.print(f"Aucune clé enregistrée dans la base : le prochain import enregistrera celle d'ici "
                          f"(empreinte {here}).")
        elif got[0] == here:
            console.print(f"Clé d'ici = clé de la base (empreinte {here}, enregistrée le {got[1]:%d/%m/%Y}).")
        else:
            err.print(f"[red]✗[/] Clé d'ici (empreinte {here}) ≠ clé de la base (empreinte {got[0]}, enregistrée le "
                      f"{got[1]:%d/%m/%Y}) : les imports sont refusés. Remettez la clé d'origine, ou après une "
                      "rotation voulue : `vigie privacy key --rotated`.", soft_wrap=True)
            raise typer.Exit(1)
        return
    if not yes and not confirm("Enregistrer la clé actuelle comme clé de la base (rotation) ? Les messages déjà "
                               "importés gardent leurs pseudonymes calculés avec l'ancienne clé."):
        raise typer.Exit(1)
    with derived_refresh.writer() as con:
        with store.transaction(con):
            old, new = privacy.record_rotation(con)
            retention.audit(con, "privacy.key_rotated", {"previous": old, "new": new})
    console.print(f"Clé de la base : {old or 'aucune'} → {new}. Notez la date de rotation au registre des "
                  "traitements (docs/privacy.md, section 8) ; refaites les effacements passés (section 6, point 5).",
                  soft_wrap=True)


@app.command("purge")
def purge(
    older_than: str = typer.Option(None, "--older-than", help="Âge maximal des messages : 24m, 730d, 2y "
                                   "(défaut : [retention] messages du fichier de configuration, sinon 24m)."),
    audit_older_than: str = typer.Option(None, "--audit-older-than", help="Âge maximal du journal d'audit de "
                                         "l'application (défaut : [retention] audit, sinon 12m)."),
    yes: bool = typer.Option(False, "--yes", help="Ne pas demander de confirmation."),
) -> None:
    """Durée de conservation : supprimer les messages plus anciens que la durée donnée, et le journal
    d'audit de l'application au-delà de sa propre durée (journalisé)."""
    try:
        value = older_than or retention.default_retention()
        limit = retention.cutoff(value)
        audit_value = audit_older_than or audit.default_retention()
        audit_limit = retention.cutoff(audit_value)
    except ValueError as e:
        _fail(e)
    if not yes and not confirm(f"Supprimer les messages antérieurs au {limit:%d/%m/%Y} ?"):
        raise typer.Exit(1)
    stale = store.stale_copies()
    with derived_refresh.writer(compact=True) as con:
        rep = retention.purge_older_than(con, value)
    _print_counts(f"Purge des messages antérieurs au {limit:%d/%m/%Y}", rep)
    n = audit.AuditLog().purge(audit_limit)
    console.print(f"Journal d'audit de l'application ({users.auth_db_path()}) : {fr_int(n)} entrée"
                  f"{'s' if n > 1 else ''} antérieure{'s' if n > 1 else ''} au {audit_limit:%d/%m/%Y} supprimée"
                  f"{'s' if n > 1 else ''}.")
    _copies_report(stale)


@app.command("audit")
def audit_cmd(
    user: str = typer.Option(None, "--user", "-u", help="Un seul compte."),
    action: str = typer.Option(None, "--action", help="Une seule action : " + ", ".join(audit.ACTIONS) + "."),
    since: str = typer.Option(None, "--since", help="Depuis ce jour (AAAA-MM-JJ)."),
    limit: int = typer.Option(200, "--limit", "-n", help="Nombre d'entrées (les plus récentes)."),
    as_json: bool = typer.Option(False, "--json", help="Résultat en JSON (une entrée par ligne)."),
) -> None:
    """Journal d'audit : connexions, pages consultées, téléchargements, rapports de l'application, et
    effacements, purges et corrections inscrits dans la base."""
    import json
    from datetime import date, datetime

    try:
        start = datetime.combine(date.fromisoformat(since), datetime.min.time()) if since else None
    except ValueError:
        _fail(ValueError(f"Date invalide « {since} » : AAAA-MM-JJ."))
    app_entries = audit.AuditLog().entries(since=start, user=user, action=action, limit=limit)
    base = None
    try:
        with store.reader() as con:
            base = audit.store_entries(con, limit=limit)
    except store.StoreMissing:  # no store yet: the app's entries alone
        base = None
    if base is not None:
        keep = [(not user or u == user.strip().lower()) and (not action or a == action)
                and (start is None or at >= start) for u, a, at in zip(base["user"], base["action"], base["at"],
                                                                        strict=True)]
        base = base[keep]
    df = audit.combined(app_entries, base).head(limit)
    if as_json:
        for r in df.assign(at=df["at"].astype(str)).to_dict(orient="records"):
            print(json.dumps(r, ensure_ascii=False))
        return
    console.print(f"Journal d'audit ({users.auth_db_path()} et base {store.db_path()}), les plus récentes "
                  "d'abord :", soft_wrap=True)
    for r in audit.french(df).itertuples(index=False):
        who = ", ".join(x for x in (r.Rôle, r.Territoires, r.Connexion) if x)
        line = " · ".join(x for x in (r.Date, f"{r.Utilisateur} ({who})" if who else r.Utilisateur, r.Action,
                                      r.Page, r.Détail) if x)
        console.print(escape(line), soft_wrap=True)
