"""The HTTP ceiling: a bare Litestar endpoint that decodes the same body as `POST /api/event`
and answers 202 without storing anything. Run under uvicorn exactly as `tracking serve` is:
`python bench/ceiling.py PORT [WORKERS]`."""

import sys
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, Request, post

from tracking.entrypoints.http.schemas import EventIn
from tracking.entrypoints.server import tune_gc


@post("/api/event", status_code=202)
async def accept(request: Request[Any, Any, Any]) -> dict[str, str]:
    msgspec.json.decode(await request.body(), type=EventIn)
    return {"status": "accepted"}


def app() -> Litestar:
    """Each worker's app, served with the same collector settings as `tracking serve`."""
    built = Litestar([accept])
    tune_gc()
    return built


if __name__ == "__main__":
    uvicorn.run(
        "ceiling:app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int((sys.argv[2:] or ["1"])[0]),
        log_level="warning",
    )
