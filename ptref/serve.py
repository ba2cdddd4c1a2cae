"""``ptref serve``: a trained image model behind HTTP with LitServe (Lightning's server), and a demo page.

TensorFlow course original (Flask)::

    @app.route("/predict", methods=["POST"])
    def predict():
        image = preprocess(request.files["file"])
        return jsonify(model.predict(image).tolist())

Here LitServe runs the model in its own worker process and gathers concurrent requests into batches (up to
``--max-batch-size`` requests, waiting at most ``--batch-timeout`` seconds for a batch to fill)::

    ptref serve --ckpt_path runs/mnist_cnn_t10k/version_0/checkpoints/last.ckpt
    ptref serve --config experiments/mnist_cnn_t10k.yaml --ckpt_path last    # that experiment's newest run

- ``POST /predict`` with ``{"image": "<base64 of a PNG/JPEG file>"}`` (a ``data:`` URL works too) answers
  ``{"label": "7", "index": 7, "probability": 0.998, "probabilities": [...], "classes": ["0", ..., "9"]}``:
  the same picture gives the same answer as ``ptref predict --data.predict_files '[picture.png]'``.
- ``GET /`` is a page to upload or draw a picture and see the prediction with its probabilities;
  ``GET /health`` says ``ok`` once the model is loaded; ``GET /info`` names the model and its classes.
- A request that cannot be answered gets one line, ``{"detail": "..."}``, and the server keeps serving:
  400 (no JSON ``{"image": ...}``, no base64, an empty image), 413 (a body over ``--max-bytes`` or a picture
  over ``--max-pixels``), 415 (not a picture, or 16/32-bit samples), 422 (a picture the model's preprocessing
  refuses, e.g. a blank page for MNIST).

**What makes a model servable** (the contract): the checkpoint of a ``ptref fit`` holds the model's and the data
module's classes and arguments; Lightning rebuilds both, and the data module provides what ``ptref predict``
does to a picture:

- ``load_image(path) -> Tensor``: one picture as the predict loader yields it (MNIST: ``load_as_mnist``, uint8
  ``[28, 28]``), raising ``ValueError`` for a picture it cannot use;
- ``normalize(images) -> Tensor``: a stacked batch of those into the model's input (what its
  ``on_after_batch_transfer`` does);
- ``classes``: the class names, by index.

The model's ``predict_step((inputs, ids), batch_idx)`` returns ``label`` (class indices ``[B]``, or ``[B, K]``
for K heads such as a captcha's characters), ``probability`` (of each label) and ``probabilities``
(``[B, C]`` or ``[B, K, C]``), as :class:`ptref.models.classifier.ImageClassifier` does; K heads answer the
labels' names joined (``"4829"``) and lists per head.
"""

import argparse
import base64
import binascii
import importlib
import io
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import litserve as ls
import torch
from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from lightning.pytorch import LightningDataModule, LightningModule
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ptref.errors import UsageError, UserInputError
from ptref.runs import CheckpointError, check_checkpoint, experiment_root, last_checkpoint

PAGE = Path(__file__).resolve().parent / "serve_page" / "index.html"
CONTRACT = ("load_image", "normalize", "classes")  # what a data module provides to be served (module docstring)
DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # 16/32-bit samples: 8-bit grey would clip them
WANTED = 'send JSON {"image": "<base64 of a PNG or JPEG file>"} with Content-Type: application/json'
HOSTS = ("127.0.0.1", "0.0.0.0", "::")  # the interfaces LitServe binds to


class ServeError(UserInputError):
    """A checkpoint or option ``ptref serve`` cannot serve."""


@dataclass
class Refused(Exception):
    """A request answered with an HTTP error instead of a prediction."""

    status: int
    message: str


# No `from __future__ import annotations` in this module: LitServe reads decode_request's annotation (ImageRequest)
# as the body's type, and FastAPI needs the class itself there, not its name.
class ImageRequest(BaseModel):
    """The body of ``POST /predict``."""

    image: str  # base64 of the picture file's bytes, or a data: URL


def load_servable(checkpoint: Path, device: str = "cpu") -> tuple[LightningModule, LightningDataModule]:
    """The model (in eval mode, on ``device``) and data module of a ``ptref fit`` checkpoint.

    Lightning rebuilds only classes already imported (a checkpoint cannot make it import code): ptref's
    models and data modules are, as on the ``ptref`` command line.
    """
    importlib.import_module("ptref.data")
    importlib.import_module("ptref.models")
    try:
        model = LightningModule.load_from_checkpoint(checkpoint, map_location=device, weights_only=True)
        data = LightningDataModule.load_from_checkpoint(checkpoint, weights_only=True)
    except (KeyError, ValueError, TypeError) as error:
        raise ServeError(f"{checkpoint}: cannot rebuild its model and data module: {error}") from None
    missing = [name for name in CONTRACT if not hasattr(data, name)]
    if missing:
        raise ServeError(
            f"{checkpoint}: {type(model).__name__} with {type(data).__name__} cannot be served: the data module "
            f"has no {', '.join(missing)} (an image model's data module provides {', '.join(CONTRACT)}; ptref.serve)"
        )
    return model.eval(), data


def answers(output: dict[str, torch.Tensor], classes: Sequence[str]) -> list[dict[str, Any]]:
    """One JSON answer per example of ``predict_step``'s output (one head, or K heads: module docstring)."""
    rows = []
    for index, probability, probabilities in zip(
        output["label"].tolist(), output["probability"].tolist(), output["probabilities"].tolist()
    ):
        heads = index if isinstance(index, list) else [index]
        rows.append({"label": "".join(classes[i] for i in heads), "index": index, "probability": probability,
                     "probabilities": probabilities, "classes": list(classes)})
    return rows


class ImageModelAPI(ls.LitAPI):
    """LitServe's view of a checkpoint: decode a picture as ``ptref predict`` does, batch, ``predict_step``.

    A refused picture is passed through ``predict`` to ``encode_response`` instead of raised: LitServe answers an
    error raised while it handles a batch to every request of that batch.
    """

    def __init__(self, checkpoint: Path, max_pixels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checkpoint, self.max_pixels = checkpoint, max_pixels

    def setup(self, device: str) -> None:
        self.model, self.data = load_servable(self.checkpoint, device)
        self.target = device

    def decode_request(self, request: ImageRequest) -> torch.Tensor | Refused:
        try:
            return self.read(request.image)
        except Refused as refused:
            return refused

    def read(self, text: str) -> torch.Tensor:
        """The model's input for one base64 picture (a ``data:`` URL's header is dropped)."""
        text = text.split(",", 1)[1] if text.startswith("data:") else text
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, f'"image" is not base64; {WANTED}') from None
        if not data:
            raise Refused(400, f'"image" is empty; {WANTED}')
        try:
            with Image.open(io.BytesIO(data)) as picture:
                (width, height), mode = picture.size, picture.mode
        except Image.DecompressionBombError as error:
            raise Refused(413, f"picture too large: {error}") from None
        except (UnidentifiedImageError, OSError):
            raise Refused(415, f"not a picture: {len(data):,} bytes that Pillow cannot read "
                               "(PNG or JPEG expected)") from None
        if width * height > self.max_pixels:
            raise Refused(413, f"picture of {width}x{height} pixels is over the limit of {self.max_pixels:,} "
                               "pixels (--max-pixels)")
        if mode in DEEP_MODES:
            raise Refused(415, f"picture mode {mode} (16/32-bit samples) is not supported: send an 8-bit grey "
                               "or colour picture")
        # load_image reads a file, as ptref predict does
        with tempfile.NamedTemporaryFile(prefix="ptref-serve-") as upload:
            upload.write(data)
            upload.flush()
            try:
                return self.data.load_image(Path(upload.name))
            except ValueError as error:
                raise Refused(422, str(error).replace(upload.name, "the picture")) from None

    def batch(self, inputs: list[torch.Tensor | Refused]) -> list[torch.Tensor | Refused]:
        return inputs  # stacked in predict, without the refused ones

    def predict(self, inputs: Any) -> Any:
        batch = inputs if isinstance(inputs, list) else [inputs]  # a list when batching (max_batch_size > 1)
        images = [item for item in batch if isinstance(item, torch.Tensor)]
        results: list[dict[str, Any]] = []
        if images:
            x = self.data.normalize(torch.stack(images).to(self.target))
            with torch.inference_mode():
                output = self.model.predict_step((x, torch.arange(len(images))), 0)
            results = answers(output, self.data.classes)
        answered = iter(results)
        outputs = [item if isinstance(item, Refused) else next(answered) for item in batch]
        return outputs if isinstance(inputs, list) else outputs[0]

    def encode_response(self, output: dict[str, Any] | Refused) -> Response:
        if isinstance(output, Refused):
            return JSONResponse({"detail": output.message}, status_code=output.status)
        return JSONResponse(output)


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (declared, or counted as it arrives)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"request body over the limit of {self.max_bytes:,} bytes (--max-bytes)"
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
        received = 0

        async def counted() -> dict:
            nonlocal received
            chunk = await receive()
            received += len(chunk.get("body", b""))
            if received > self.max_bytes:
                raise Refused(413, message)
            return chunk

        try:
            await self.app(scope, counted, send)
        except Refused as refused:
            await JSONResponse({"detail": refused.message}, status_code=refused.status)(scope, receive, send)


async def bad_body(request: Request, error: RequestValidationError) -> JSONResponse:
    """400 with one line for a body that is not JSON ``{"image": "<base64>"}`` (FastAPI's own: 422, a list)."""
    first = (error.errors() or [{}])[0]
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.startswith("application/json"):
        problem = f"Content-Type is {content_type}"
    elif first.get("type") == "json_invalid":
        problem = "the body is not JSON"
    else:
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "body"
        problem = f"{where}: {first.get('msg', 'invalid')}"
    return JSONResponse({"detail": f"{problem}; {WANTED}"}, status_code=400)


async def unparsable_body(request: Request, error: StarletteHTTPException) -> Response:
    """FastAPI's 400 for a body it cannot even decode (bytes that are not UTF-8), in :func:`bad_body`'s words."""
    if error.status_code == 400 and request.url.path == "/predict":
        return JSONResponse({"detail": f"the body is not JSON; {WANTED}"}, status_code=400)
    return await http_exception_handler(request, error)


def server(checkpoint: Path, args: argparse.Namespace) -> ls.LitServer:
    """The LitServer of ``checkpoint``: the API, the page at ``/``, the body limit and one-line errors."""
    model, data = load_servable(checkpoint)  # refuses what cannot be served before any worker starts
    api = ImageModelAPI(checkpoint, args.max_pixels, max_batch_size=args.max_batch_size,
                        batch_timeout=args.batch_timeout)
    metadata = {"model": type(model).__name__, "data": type(data).__name__, "checkpoint": str(checkpoint),
                "classes": list(data.classes)}
    served = ls.LitServer(api, accelerator=args.accelerator, workers_per_device=args.workers,
                          model_metadata=metadata, middlewares=[(BodyLimit, {"max_bytes": args.max_bytes})])
    served.app.add_exception_handler(RequestValidationError, bad_body)
    served.app.add_exception_handler(StarletteHTTPException, unparsable_body)
    # the page replaces LitServe's "litserve running" at /
    served.app.router.routes[:] = [route for route in served.app.router.routes if getattr(route, "path", "") != "/"]
    served.app.add_api_route("/", lambda: FileResponse(PAGE, media_type="text/html"), methods=["GET"],
                             include_in_schema=False)
    return served


def resolve(args: argparse.Namespace) -> Path:
    """The checkpoint file of ``--ckpt_path`` (``last``: the newest run of ``--config``'s experiment), checked."""
    if args.ckpt_path != "last":
        path = Path(args.ckpt_path)
    else:
        if args.config is None:
            raise UsageError("--ckpt_path last needs --config (the experiment whose newest run to serve)")
        import yaml

        config = yaml.safe_load(Path(args.config).read_text()) or {}
        root = experiment_root(config.get("trainer"))
        found = last_checkpoint(root)
        if found is None:
            raise CheckpointError(f"--ckpt_path last: no run under {root} has saved a checkpoint: train first "
                                  f"(ptref fit --config {args.config})")
        path = found[1]
    check_checkpoint(path)
    return path


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptref serve", description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--ckpt_path", required=True, help="a checkpoint file, or 'last' (with --config)")
    parser.add_argument("--config", help="the experiment's YAML, for --ckpt_path last")
    parser.add_argument("--host", default="127.0.0.1", choices=HOSTS, help="127.0.0.1: this machine only")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch-size", type=int, default=16, help="requests run by the model at once")
    parser.add_argument("--batch-timeout", type=float, default=0.01, help="seconds a batch waits to fill")
    parser.add_argument("--max-bytes", type=int, default=10_000_000, help="largest request body")
    parser.add_argument("--max-pixels", type=int, default=50_000_000, help="largest picture, width x height")
    parser.add_argument("--accelerator", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--workers", type=int, default=1, help="model processes per device")
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    args = parser.parse_args(list(argv))
    if not 1024 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: expected 1024 to 65535")
    for name in ("max_batch_size", "max_bytes", "max_pixels", "workers"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} {getattr(args, name)}: expected 1 or more")
    if args.batch_timeout < 0:
        raise UsageError(f"--batch-timeout {args.batch_timeout}: expected 0 or more seconds")
    return args


def main(argv: Sequence[str] = ()) -> int:
    args = parse_args(argv)
    checkpoint = resolve(args)
    served = server(checkpoint, args)
    shown = "localhost" if args.host == "127.0.0.1" else args.host
    print(f"ptref: serving {checkpoint} at http://{shown}:{args.port}/ (API: POST /predict)", file=sys.stderr)
    served.run(host=args.host, port=args.port, log_level=args.log_level, generate_client_file=False)
    return 0
