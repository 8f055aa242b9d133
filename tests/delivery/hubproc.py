"""`python tests/delivery/hubproc.py --port P`: `knutpunkt serve`, with the admin router mounted if the app
factory does not mount it yet (so these tests run before and after the lead wires `/admin`)."""

from __future__ import annotations

import argparse

import uvicorn

from hub.api import create_app
from hub.api.admin_routes import router as admin_router


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app()
    if not any(getattr(r, "path", "") == "/admin/api/summary" for r in app.routes):
        app.include_router(admin_router)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
