"""The README's catalogue is generated from the check classes and must be current."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_catalogue_is_current():
    p = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "readme_catalogue.py"), "--check"], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr


def test_readme_names_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "scripts/setup && .venv/bin/osfsck demo" in text and "scripts/test" in text
