"""Imports run one way (docs/architecture.md): `lib` is the floor and imports no app and not
`config`; `signatures` builds on `petitions`, and `petitions.models` never imports `signatures`;
`integrations` reads both and neither imports it; `config` wires them and nothing imports it; a
views module is imported only by a URLconf; domain modules never import a view, form or admin
module; and no two modules import each other, even through a chain or inside a function."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("lib", "petitions", "signatures", "integrations", "config")
URLCONFS = (
    "config.urls",
    "petitions.urls",
    "signatures.urls",
    "integrations.urls",
    "integrations.page_urls",
)
# Where the domain lives: what a request handler, a form or the admin builds on.
DOMAIN = (
    "petitions/models.py",
    "petitions/goals.py",
    "signatures/models.py",
    "signatures/signing.py",
    "signatures/counting.py",
    "signatures/abuse.py",
    "signatures/confirmation.py",
    "signatures/export.py",
    "signatures/supporter.py",
    "signatures/receipts.py",
    "signatures/record.py",
)
INTERFACE = ("views", "forms", "admin", "urls")
# lib.urls builds addresses and routes nothing; lib.forms is the bot check every form shares.
NOT_INTERFACE = ("lib.urls", "lib.forms")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every project module this file imports, at the top or inside a function."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else ""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def project_modules() -> dict[str, set[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = imports_of(path)
    return {name: {i for i in imported if i in modules} for name, imported in modules.items()}


def is_views(name: str) -> bool:
    return name.rsplit(".", 1)[-1].endswith("views") or name == "lib.health"


def test_lib_imports_no_app_and_not_config():
    wrong = {
        name: sorted(i for i in imported if not i.startswith("lib"))
        for name, imported in project_modules().items()
        if name.startswith("lib")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_petitions_models_never_imports_signatures():
    imported = imports_of(ROOT / "petitions/models.py")
    assert sorted(i for i in imported if i.startswith("signatures")) == []


def test_the_domain_apps_never_import_integrations():
    wrong = {
        name: sorted(i for i in imported if i.startswith("integrations"))
        for name, imported in project_modules().items()
        if name.split(".")[0] in ("lib", "petitions", "signatures")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_nothing_in_the_packages_imports_config():
    wrong = {
        name: sorted(i for i in imported if i.startswith("config"))
        for name, imported in project_modules().items()
        if not name.startswith("config")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_only_a_urlconf_imports_a_views_module():
    wrong = {
        name: sorted(i for i in imported if is_views(i))
        for name, imported in project_modules().items()
        if name not in URLCONFS
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_domain_modules_never_import_views_forms_or_admin():
    modules = project_modules()
    for path in DOMAIN:
        name = module_name(ROOT / path)
        interface = [
            i for i in modules[name] if i.rsplit(".", 1)[-1] in INTERFACE and i not in NOT_INTERFACE
        ]
        assert interface == [], f"{name} imports {interface}"


def test_no_module_imports_itself_through_others():
    modules = project_modules()

    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(modules[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += modules.get(name, ())
        return seen

    cycles = sorted(name for name in modules if name in reaches(name))
    assert cycles == []
