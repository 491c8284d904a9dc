"""The imports run one way (docs/architecture.md): pages and the admin call services, tasks call
services, services call models, and nothing but the worker imports the tasks.

Read from the source with `ast`, every import counted, those inside functions too: an import moved
into a function still ties the two modules together, it only hides the circle until run time.
"""

import ast
from fnmatch import fnmatch
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PACKAGES = ("campaign", "petitions")

# Each module's layer: the first layer, lowest first, with a pattern that matches its dotted name.
LAYERS = {
    # The project's plumbing, which knows nothing of petitions: settings, logging, the Celery app,
    # the cache and security headers, the SMTP connection that every e-mail shares.
    "base": [
        "campaign", "campaign.settings", "campaign.test_settings", "campaign.logs", "campaign.celery",
        "campaign.cache", "campaign.security", "campaign.logins", "campaign.django_strings",
        "campaign.formats", "campaign.formats.*", "campaign.broker", "petitions", "petitions.smtp",
    ],
    "models": ["petitions.models"],
    # The campaign's rules, each feature's own: signing, delivery, outreach, the organizers' numbers.
    "services": [
        "petitions.reminders", "petitions.legislators", "petitions.demo",
        "petitions.signing", "petitions.signing.services", "petitions.signing.abuse", "petitions.signing.emails",
        "petitions.delivery", "petitions.delivery.*",
        "petitions.outreach", "petitions.outreach.updates", "petitions.outreach.followups",
        "petitions.organizers", "petitions.organizers.digest", "petitions.organizers.dashboard",
        "petitions.organizers.exports", "petitions.organizers.readiness",
    ],
    "tasks": ["petitions.tasks"],
    # What serves a request or a command: views, forms, URLs, the admin, template tags, commands,
    # migrations and the apps' configuration.
    "web": [
        "campaign.urls", "campaign.views", "campaign.middleware", "campaign.admin", "campaign.apps",
        "campaign.wsgi", "petitions.apps", "petitions.urls", "petitions.sitemaps", "petitions.context_processors",
        "petitions.*.views", "petitions.signing.forms", "petitions.organizers.admin*",
        "petitions.templatetags", "petitions.templatetags.*", "petitions.management", "petitions.management.*",
        "petitions.migrations", "petitions.migrations.*",
    ],
}  # fmt: skip

# What a module of each layer may import, its own layer included. Tasks and web are both entry
# points and never import each other: a page enqueues a task by its name (petitions.reminders).
MAY_IMPORT = {
    "base": {"base"},
    "models": {"base", "models"},
    "services": {"base", "models", "services"},
    "tasks": {"base", "models", "services", "tasks"},
    "web": {"base", "models", "services", "web"},
}


def _module_name(path):
    parts = list(path.relative_to(BASE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules():
    """{dotted name: path} of every module of the project's packages, their tests aside."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            if "tests" not in path.relative_to(BASE_DIR).parts:
                modules[_module_name(path)] = path
    return modules


def _imported(name, path, modules):
    """The project modules that module NAME at PATH imports, anywhere in it, as {module: line}."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = {}

    def add(candidate, line):
        # A name from a module (`from .models import Letter`) counts as that module.
        while candidate and candidate not in modules:
            candidate = candidate.rpartition(".")[0]
        if candidate and candidate != name:
            found.setdefault(candidate, line)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # relative: from the package, one level up for each dot after the first
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = ".".join(part for part in (parent, node.module) if part)
            for alias in node.names:
                add(f"{base}.{alias.name}", node.lineno)
    return found


def _layer(name):
    for layer, patterns in LAYERS.items():
        if any(fnmatch(name, pattern) for pattern in patterns):
            return layer
    return None


@pytest.fixture(scope="module")
def graph():
    modules = _project_modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def test_every_module_has_a_layer(graph):
    missing = [name for name in graph if _layer(name) is None]
    assert not missing, f"give these modules a layer in LAYERS: {', '.join(missing)}"


def test_no_module_imports_a_layer_above_it_or_beside_it(graph):
    wrong = [
        f"{name} ({_layer(name)}) imports {target} ({_layer(target)}) on line {line}"
        for name, targets in graph.items()
        for target, line in targets.items()
        if _layer(name) and _layer(target) and _layer(target) not in MAY_IMPORT[_layer(name)]
    ]
    assert not wrong, "\n".join(wrong)


def _cycles(graph):
    """The import circles, each as the modules of one strongly connected component (Tarjan's)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, {})):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle(graph):
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" <-> ".join(cycle) for cycle in cycles)


FEATURES = ("signing", "delivery", "outreach", "organizers")


def _feature(name):
    """The feature folder NAME belongs to (petitions.signing.views: petitions.signing), or NAME itself."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "petitions" and len(parts) > 1 and parts[1] in FEATURES else name


def test_the_feature_folders_depend_on_each_other_one_way(graph):
    """A newcomer reads a feature's folder knowing which others it builds on: between folders, too,
    the imports form no circle (signing may use delivery, and then delivery never uses signing)."""
    folders = {}
    for name, targets in graph.items():
        for target, line in targets.items():
            if _feature(name) != _feature(target):
                folders.setdefault(_feature(name), {}).setdefault(_feature(target), f"{name}:{line} → {target}")
    cycles = _cycles(folders)
    assert not cycles, "\n".join(
        " <-> ".join(cycle) + ": " + "; ".join(folders[a][b] for a in cycle for b in cycle if b in folders.get(a, {}))
        for cycle in cycles
    )


def test_the_cycle_finder_finds_a_circle_of_three():
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def _task_names():
    tree = ast.parse((BASE_DIR / "petitions" / "tasks.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.decorator_list}


def test_every_task_enqueued_by_name_exists():
    """A task sent by its name (petitions.reminders.enqueue) that tasks.py does not define would
    reach the worker as an unregistered task: the name is checked here instead."""
    names = set()
    for path in _project_modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "enqueue":
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: enqueue takes a task's name as a string"
                names.add(first.value)
    assert names, "nothing is enqueued by name"
    assert names - _task_names() == set()
