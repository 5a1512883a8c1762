"""The layers are part of the product: the import contracts in pyproject.toml must hold."""

import shutil
import subprocess


def test_the_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports is not None, "import-linter is a dev dependency; run `uv sync`"

    result = subprocess.run(
        [lint_imports, "--no-cache"], capture_output=True, text=True, check=False, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
