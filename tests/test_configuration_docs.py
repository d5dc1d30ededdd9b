"""docs/configuration.md lists every environment variable settings.py reads: a new setting without a row fails."""

import re

from tests.conftest import REPO_ROOT

SETTINGS = REPO_ROOT / "platform" / "astroloc_platform" / "settings.py"
DOC = REPO_ROOT / "docs" / "configuration.md"
# env.str("NAME", ...), env.int(...), ... and the production-only values.
READ = re.compile(r"""(?:env\.\w+|_required_in_production)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`", re.M)


def settings_variables() -> set[str]:
    return set(READ.findall(SETTINGS.read_text()))


def documented_variables() -> set[str]:
    return set(ROW.findall(DOC.read_text()))


def test_every_setting_read_from_the_environment_has_a_row():
    found = settings_variables()
    assert len(found) > 40  # the pattern still matches how settings.py reads the environment
    missing = sorted(found - documented_variables())
    assert not missing, f"add a row to docs/configuration.md for: {', '.join(missing)}"
