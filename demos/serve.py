"""Serve every model bundle (or the named ones) as Gradio demos in one local web server.

An index page at / lists the demos; each app lives at /NAME/ with its API at
/NAME/ (api_name "/predict"). A broken bundle stops the server at startup with a
message naming the file; Ctrl-C stops it cleanly.

examples:
  python -m demos serve                       # every bundle in models/, http://127.0.0.1:7860/
  python -m demos serve digits pets --port 8080
  python -m demos serve --models /data/bundles --backend torch
"""

from __future__ import annotations

import argparse
import contextlib
import html
import socket
import sys
from pathlib import Path

from demos.bundles import load_demos, select_bundles
from demos.errors import DemosError

DEFAULT_HOST = "127.0.0.1"  # local only; pass --host 0.0.0.0 to share on your network
DEFAULT_PORT = 7860  # Gradio's usual port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="bundles to serve (default: every bundle in --models)",
    )
    parser.add_argument("--models", type=Path, default=Path("models"), help="bundles folder")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--backend",
        choices=["onnx", "torch"],
        default="onnx",
        help="ONNX Runtime, or PyTorch with the safetensors weights",
    )


def _index_page(demos: dict) -> str:
    rows = []
    for name, (model, _) in demos.items():
        accuracy = model.metrics.get("accuracy")
        score = f"{accuracy:.1%} accuracy" if isinstance(accuracy, int | float) else ""
        post = f' · <a href="{html.escape(model.post)}">post</a>' if model.post else ""
        rows.append(
            f'<li><a href="/{html.escape(name)}/">{html.escape(model.title)}</a>'
            f" <small>{html.escape(score)}{post}</small><br>"
            f"<span>{html.escape(model.description)}</span></li>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Demos</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;"
        "padding:0 1rem}li{margin:0 0 1rem}small{color:#666}</style></head><body>"
        f"<h1>Demos</h1><ul>{''.join(rows)}</ul></body></html>"
    )


def create_app(
    models_dir: str | Path = "models",
    names: list[str] | None = None,
    backend: str = "onnx",
    *,
    verbose: bool = False,
):
    """A FastAPI app with an index page at / and each bundle's Gradio app at /NAME/.

    The loaded demos are in `app.state.demos` ({name: (Model, gr.Blocks)}).
    """
    # Names are checked before the heavy imports, so a typo fails at once.
    folders = select_bundles(models_dir, names)
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from demos import runtime

    demos = load_demos(folders, backend, verbose=verbose)
    app = FastAPI(title="Demos", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.demos = demos
    page = _index_page(demos)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    for name, (_, blocks) in demos.items():
        # root_path: Gradio builds the URLs of files it returns (an example loaded into the
        # input, /gradio_api/file=...) from the request. For events that skip the queue,
        # as loading an example does, it strips the whole request path, mount point
        # included, unless the app's root_path names the mount point: without it the
        # browser asks for /gradio_api/file=... instead of /NAME/gradio_api/file=... (404).
        app = gr.mount_gradio_app(
            app,
            blocks,
            path=f"/{name}",
            root_path=f"/{name}",
            max_file_size=runtime.MAX_FILE_SIZE,
            show_error=False,
        )
    return app


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message before loading anything if the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port whose old connections wait in TIME_WAIT is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise DemosError(
                f"can't listen on {host}:{port} ({error.strerror}); pass another --port "
                "or stop the program using it"
            ) from None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    _check_port(args.host, args.port)
    app = create_app(args.models, args.names, args.backend, verbose=True)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"http://{shown}:{args.port}"
    print(f"Serving {len(app.state.demos)} demo(s) at {base}/ (Ctrl-C to stop)", file=sys.stderr)
    for name in app.state.demos:
        print(f"  {base}/{name}/", file=sys.stderr)
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    )
    # uvicorn handles SIGINT/SIGTERM itself: it finishes open requests and runs the apps'
    # shutdown hooks (which stop Gradio's queues), then re-raises the signal. Ctrl-C is
    # how this server is meant to stop, so that is a normal exit.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    print("Stopped.", file=sys.stderr)
    return 0
