"""The core stays pure: importing scoring loads no Prefect, Jinja2, aiosmtplib or file-format library."""
from __future__ import annotations

import subprocess
import sys


def test_scoring_imports_no_shell_libraries():
    code = (
        "import sys, importlib, pkgutil, scoring\n"
        "for m in pkgutil.iter_modules(scoring.__path__):\n"
        "    importlib.import_module('scoring.' + m.name)\n"
        "bad = sorted(n for n in ('prefect', 'jinja2', 'aiosmtplib', 'aiosmtpd', 'openpyxl', 'fastapi')"
        " if n in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"scoring/ pulled in {out.stdout.strip()}"
