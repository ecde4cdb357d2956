"""The two layers stay apart: gru_core never imports streamlit, the UI never imports torch."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = [
    ROOT / "app.py",
    *sorted((ROOT / "gru_app").glob("*.py")),
    *sorted((ROOT / "app_pages").glob("*.py")),
]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_ui_files_import_no_torch():
    assert len(UI_FILES) >= 7
    for path in UI_FILES:
        assert "torch" not in _imports(path), path.name
        assert not re.search(r"\btorch\.[a-z_]", path.read_text()), path.name  # no torch calls


def test_gru_core_never_imports_streamlit():
    sources = sorted((ROOT / "gru_core").rglob("*.py"))
    for path in sources:
        assert "streamlit" not in _imports(path), path.name
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in sources]
    modules = ", ".join(n.removesuffix(".__init__") for n in names)
    code = f"import sys, {modules}; print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_every_page_is_in_the_navigation():
    app = (ROOT / "app.py").read_text()
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        assert f'"app_pages/{page.name}"' in app, page.name
