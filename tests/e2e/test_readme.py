"""Every shell example of the README, run as a new user runs them: top to bottom in one bash
session, against `tracking serve` on its embedded default, each curl's answer compared with
the one the README shows. A block the test cannot run says why, above it, in the README.

Two substitutions only: the server's address (a free port, not 8000) and the admin key it
printed (`KEY=trk_...`); `uv run tracking` is this checkout's `tracking`."""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.processes import ADMIN_KEY, Tracking
from tests.e2e.readme import Block, blocks, matches

BASH = shutil.which("bash") or "/bin/bash"
# Records each curl's status and body, numbered in the order they ran, and prints the body as
# curl would (so `$(curl ... | python3 ...)` works as written).
_PRELUDE = """
set -euo pipefail
curl() {
    local out n
    out=$(command curl "$@" -w '\\n%{http_code}')
    n=$(( $(cat "$CALLS/count") + 1 )); echo "$n" > "$CALLS/count"
    printf '%s' "${out##*$'\\n'}" > "$CALLS/$n.status"
    printf '%s' "${out%$'\\n'*}" > "$CALLS/$n.body"
    printf '%s\\n' "${out%$'\\n'*}"
}
uv() {
    if [ "$1 $2" = "run tracking" ]; then shift 2; "$TRACKING_PYTHON" -m tracking "$@";
    else echo "the README test runs no 'uv $*'" >&2; return 2; fi
}
"""


def runnable() -> list[Block]:
    return [block for block in blocks() if block.not_run is None]


def test_every_bash_block_is_run_or_says_why_not() -> None:
    found = blocks()
    assert len(runnable()) >= 6, "the README's examples were not found"
    for block in found:
        assert block.not_run is None or len(block.not_run) > 10, block.line


def test_the_readme_examples_answer_as_shown(cli: Tracking, tmp_path: Path) -> None:
    server = cli.serve(env={"TRACKING_ADMIN_API_KEY": ADMIN_KEY})
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "count").write_text("0")
    script = _PRELUDE + "\n".join(
        f"echo '== README line {block.line}' >&2\n{_substituted(block.text, server.url)}"
        for block in runnable()
    )
    ran = subprocess.run(
        [BASH, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**cli.env, "CALLS": str(calls), "TRACKING_PYTHON": sys.executable},
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]

    expected = [answer for block in runnable() for answer in block.answers]
    assert int((calls / "count").read_text()) == len(expected), ran.stderr[-3000:]
    assert sum(answer is not None for answer in expected) >= 8
    for n, answer in enumerate(expected, start=1):
        status = int((calls / f"{n}.status").read_text())
        body = (calls / f"{n}.body").read_text()
        assert status < 400 or (answer is not None and answer.status == status), (n, body)
        if answer is None:
            continue
        if answer.status is not None:
            assert status == answer.status, (n, body)
        assert matches(answer.body, json.loads(body)), (n, answer.body, body)


def _substituted(text: str, url: str) -> str:
    return text.replace("http://127.0.0.1:8000", url).replace(
        "KEY=trk_...", f"KEY={shlex.quote(ADMIN_KEY)}"
    )
