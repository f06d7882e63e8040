"""Export the configured sentence-transformers model to ONNX, once, at set-up (scripts/setup.sh runs this).

    python -m memos_graph.embeddings.export_onnx [--model all-MiniLM-L6-v2] [--dir DIR] [--force]

Writes ``<dir>/<model>-<fingerprint>.onnx`` (dir: MEMOS_ONNX_DIR, else <MEMOS_GRAPH_CACHE>/onnx) and prints
its path. Idempotent: an existing file for the same weights is kept and nothing heavy is imported. The
transformer is traced by torch's TorchScript exporter (``dynamo=False``: it needs only the ``onnx``
package) with eager attention and dynamic batch and sequence axes; pooling and normalisation stay outside
the graph (numpy, see onnx.py). Before the file is moved into place (temporary file + rename, so a reader
never sees half a file) its vectors are compared with sentence-transformers' on texts of several lengths,
padded in one batch; the export is refused below a cosine of 0.9999. Reads local files only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from memos_graph.embeddings.onnx import (
    INPUT_NAMES,
    ONNX_OPSET,
    OUTPUT_NAME,
    ModelLayout,
    OnnxEmbedder,
    OnnxUnavailable,
    model_layout,
    onnx_dir,
)

logger = logging.getLogger(__name__)

MIN_COSINE = 0.9999
# Texts the export is checked on before it is kept: one word, sentences, unicode, and one past the
# 256-token truncation, embedded together so padding is exercised as well.
CHECK_TEXTS = (
    "cello",
    "What instrument does Alice play?",
    "Alice moved to Lyon in 2019 and has played the cello in a local orchestra ever since.",
    "Ünïcödé, 你好, emoji 🎻 and ‘quotes’",
    " ".join(f"token{index}" for index in range(400)),
)


def _export(layout: ModelLayout, target: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(layout.directory), attn_implementation="eager", local_files_only=True)
    model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            output = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return output.last_hidden_state

    # A batch of two with padding, so the trace keeps the mask's data flow general.
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 1037, 2936, 6251, 2182, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's warnings about Python booleans in transformers' mask code
        torch.onnx.export(
            LastHiddenState(model),
            (ids, mask, torch.zeros_like(ids)),
            str(target),
            dynamo=False,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
        )


def check_against_torch(layout: ModelLayout, path: Path) -> float:
    """The lowest cosine between the export's vectors and sentence-transformers' over CHECK_TEXTS."""
    import numpy as np

    from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder

    onnx_vectors = OnnxEmbedder(str(layout.directory), onnx_path=path).embed_array(CHECK_TEXTS)
    torch_vectors = np.asarray(SentenceTransformerEmbedder(str(layout.directory)).embed(CHECK_TEXTS))
    return float((onnx_vectors * torch_vectors).sum(axis=1).min())


def export_onnx(model: str, directory: Path | None = None, *, force: bool = False) -> Path:
    """Export `model` unless an export of the same weights exists; return the file's path."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    layout = model_layout(model)
    target = layout.onnx_path(directory)
    if target.is_file() and not force:
        return target
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        _export(layout, Path(temporary))
        cosine = check_against_torch(layout, Path(temporary))
        if cosine < MIN_COSINE:
            raise OnnxUnavailable(f"the ONNX export of {model!r} disagrees with torch (cosine {cosine:.6f})")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    logger.info("exported %s to %s (lowest cosine to torch %.6f)", model, target, cosine)
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: export (or find) the ONNX file and print its path."""
    parser = argparse.ArgumentParser(prog="python -m memos_graph.embeddings.export_onnx", description=__doc__)
    parser.add_argument("--model", default=os.environ.get("MEMOS_EMBEDDER_MODEL") or "all-MiniLM-L6-v2")
    parser.add_argument("--dir", type=Path, default=None, help="default: MEMOS_ONNX_DIR or <cache>/onnx")
    parser.add_argument("--force", action="store_true", help="export again even if the file exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[export_onnx] %(message)s")
    logger.setLevel(logging.INFO)
    try:
        layout = model_layout(args.model)
    except OnnxUnavailable as exc:
        # Not an error: such models are served by the torch embedder.
        print(f"[export_onnx] no ONNX export: {exc}", file=sys.stderr)
        return 0
    target = layout.onnx_path(args.dir or onnx_dir())
    if not target.is_file() or args.force:
        print(f"[export_onnx] exporting {layout.name} to {target}", file=sys.stderr)
    print(export_onnx(args.model, args.dir, force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
