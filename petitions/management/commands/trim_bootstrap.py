"""Write a Bootstrap stylesheet with only the rules our templates can use, to keep pages light on phones.

Bootstrap's full build is 230 KB, most of it classes the site never uses; the petition page must
weigh under 100 KB even where nothing compresses it. This keeps a rule when every class in its
selector appears as a word in our templates, JavaScript, Python or the crispy-forms templates, so
a class a template starts to use is kept at the next run. Run it after adding Bootstrap classes:

    .venv/bin/python manage.py trim_bootstrap
"""

import re
from pathlib import Path

import crispy_bootstrap5
from django.conf import settings
from django.core.management.base import BaseCommand

VENDOR = settings.BASE_DIR / "static" / "vendor" / "bootstrap"
FULL = VENDOR / "bootstrap.min.css"
TRIMMED = VENDOR / "bootstrap.trimmed.min.css"

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_CLASS = re.compile(r"\.(-?[A-Za-z_][A-Za-z0-9_-]*)")
_NOT = re.compile(r":not\([^()]*(?:\([^()]*\)[^()]*)*\)")


def source_files():
    """Every file whose words may name a Bootstrap class on our pages."""
    base = settings.BASE_DIR
    crispy = Path(crispy_bootstrap5.__file__).parent / "templates"
    patterns = [
        (base / "templates", "**/*.html"),
        (base / "petitions", "**/*.py"),
        (base / "static" / "js", "*.js"),
        (crispy, "**/*.html"),
    ]
    for folder, pattern in patterns:
        yield from sorted(p for p in folder.glob(pattern) if "tests" not in p.parts)


def used_words():
    words = set()
    for path in source_files():
        words.update(_WORD.findall(path.read_text(errors="replace")))
    return words


def _split_top_level(text, separator=","):
    """Split at SEPARATOR outside parentheses and brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _blocks(css):
    """Yield (prelude, body) for each top-level rule or at-rule; body is None for `@x ...;`."""
    index = 0
    while index < len(css):
        brace = css.find("{", index)
        semicolon = css.find(";", index)
        if brace == -1:
            return
        if semicolon != -1 and semicolon < brace and css[index:semicolon].lstrip().startswith("@"):
            yield css[index:semicolon].strip(), None
            index = semicolon + 1
            continue
        depth, end = 0, brace
        while end < len(css):
            if css[end] == "{":
                depth += 1
            elif css[end] == "}":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        yield css[index:brace].strip(), css[brace + 1 : end]
        index = end + 1


def _keep_selector(selector, words):
    if "data-bs-theme=dark" in selector:
        return False
    return all(name in words for name in _CLASS.findall(_NOT.sub("", selector)))


def trim(css, words):
    """The rules of CSS that our pages can use, in their original order."""
    css = re.sub(r"/\*#[^*]*\*/", "", css)  # The source map does not describe the trimmed file.
    out = []
    for prelude, body in _blocks(css):
        if body is None:
            out.append(prelude + ";")
        elif prelude.startswith("@keyframes"):
            out.append((prelude, body))
        elif prelude.startswith(("@media", "@supports")):
            inner = trim(body, words)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        else:
            comment, _sep, selectors = prelude.rpartition("*/")
            kept = [s for s in _split_top_level(selectors) if _keep_selector(s, words)]
            if kept:
                out.append(f"{comment}{_sep}{','.join(kept)}{{{body}}}")
    text = "".join(item for item in out if isinstance(item, str))
    # Keyframes are kept only when a kept rule animates with them.
    for item in out:
        if isinstance(item, tuple) and item[0].split()[-1] in text:
            text += f"{item[0]}{{{item[1]}}}"
    return text


def trimmed_css():
    return trim(FULL.read_text(), used_words()) + "\n"


def rules(css, context=""):
    """Every rule of CSS as one string per selector, its at-rules in front: to compare two builds."""
    found = set()
    for prelude, body in _blocks(css):
        if body is None or prelude.startswith("@keyframes"):
            continue
        if prelude.startswith(("@media", "@supports")):
            found |= rules(body, context + prelude)
        else:
            selectors = prelude.rpartition("*/")[2]
            found |= {f"{context}{selector}{{{body}}}" for selector in _split_top_level(selectors)}
    return found


def missing_rules():
    """Rules our templates now use that the committed trimmed build lacks."""
    return rules(trimmed_css()) - rules(TRIMMED.read_text())


class Command(BaseCommand):
    help = "Write static/vendor/bootstrap/bootstrap.trimmed.min.css with only the rules our pages use."

    def handle(self, *args, **options):
        text = trimmed_css()
        TRIMMED.write_text(text)
        self.stdout.write(f"Wrote {TRIMMED.relative_to(settings.BASE_DIR)}: {len(text.encode()) // 1024} KB")
