"""The HTTP ceiling: a bare Litestar endpoint that decodes the same body as `POST /api/event`
and answers 202 without storing anything. Run under uvicorn exactly as `tracking serve` is."""

import sys

import msgspec
import uvicorn
from litestar import Litestar, Request, post

from tracking.entrypoints.http.schemas import EventIn
from tracking.entrypoints.server import tune_gc


@post("/api/event", status_code=202)
async def accept(request: Request[None, None, None]) -> dict[str, str]:
    msgspec.json.decode(await request.body(), type=EventIn)
    return {"status": "accepted"}


if __name__ == "__main__":
    tune_gc()  # served as `tracking serve` serves: the same collector settings
    uvicorn.run(Litestar([accept]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
