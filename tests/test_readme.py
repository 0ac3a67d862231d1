"""The README's Python example runs as written, and prints what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.deadlines import HANG

README = Path(__file__).resolve().parents[1] / "README.md"


def python_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "one example in the section"
    return blocks[0]


def test_the_readme_example_runs_as_written(tmp_path: Path) -> None:
    code = python_example()
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The comments say what each print shows
    assert lines[0] == "2 valid, 1 invalid"
    assert lines[1] == "{'valid': 2, 'invalid': 1}"
    out_dir = tmp_path / lines[2]
    assert (out_dir / "results.csv").is_file() and out_dir.parent.name == "runs"
    assert lines[-1].split() == ["crm-19", "Alex", "Wilber", "4", "Email:", "'alexw@'", "has", "no",
                                 "domain", "after", "the", "@"]
    assert "crm-17" not in done.stdout
