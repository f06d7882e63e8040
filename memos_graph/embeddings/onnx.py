"""onnxruntime embedder: the same weights as the sentence-transformers model, exported once at set-up.

``scripts/setup.sh`` runs ``python -m memos_graph.embeddings.export_onnx``, which writes the model's
transformer as ``<MEMOS_ONNX_DIR>/<model>-<fingerprint>.onnx``; the fingerprint covers the weights and the
model's configuration, so a changed model never meets a stale file. Here the file is run by onnxruntime on
the calling thread (one intra-op and one inter-op thread, sequential execution: a query takes one core and
leaves the other to Neo4j), tokenised by the model's own fast tokenizer (``tokenizer.json``), mean-pooled
over the attention mask and L2-normalised in numpy, as sentence-transformers' Pooling and Normalize
modules do. Nothing is downloaded; nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memos_graph.embeddings.sentence_transformer import PACKAGED_MINILM, resolve_model_path
from memos_graph.errors import ConfigurationError

# Bump when the export recipe changes (inputs, outputs, opset, attention implementation): old files are
# then ignored and set-up exports again.
EXPORT_FORMAT = "1"
ONNX_OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Architectures whose forward takes (input_ids, attention_mask, token_type_ids) as the export traces it.
SUPPORTED_MODEL_TYPES = ("bert",)


class OnnxUnavailable(ConfigurationError):
    """No usable ONNX export for the configured model (not exported yet, unsupported or unloadable)."""


def onnx_dir() -> Path:
    """Where exports live: MEMOS_ONNX_DIR, else <MEMOS_GRAPH_CACHE or ~/.cache/memos-graph>/onnx."""
    explicit = os.environ.get("MEMOS_ONNX_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("MEMOS_GRAPH_CACHE") or str(Path.home() / ".cache" / "memos-graph")
    return Path(cache).expanduser() / "onnx"


@dataclass(frozen=True)
class ModelLayout:
    """What the exporter and the runtime need to know about a sentence-transformers model directory."""

    name: str  # the name stored on cubes (the configured one, "all-MiniLM-L6-v2" for the packaged model)
    directory: Path
    weights: Path
    max_seq_length: int
    dimension: int

    @property
    def tokenizer_file(self) -> Path:
        """The fast tokenizer's single-file description."""
        return self.directory / "tokenizer.json"

    def fingerprint(self) -> str:
        """SHA-256 (12 hex digits) of the weights, the configuration files and the export format."""
        digest = hashlib.sha256(f"memos-graph-onnx-{EXPORT_FORMAT}-opset{ONNX_OPSET}\0".encode())
        for config in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
            path = self.directory / config
            digest.update(config.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
        with self.weights.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.hexdigest()[:12]

    def onnx_path(self, directory: Path | None = None) -> Path:
        """The export's file name for this model and these weights."""
        stem = self.name.replace("/", "--")
        return (directory or onnx_dir()) / f"{stem}-{self.fingerprint()}.onnx"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OnnxUnavailable(f"cannot read {path}: {exc}") from exc


def model_layout(model: str) -> ModelLayout:
    """Check that a model is one the ONNX path reproduces exactly: a local BERT transformer, mean pooling,
    optional normalisation, nothing else (the embedder normalises anyway). Raises OnnxUnavailable if not."""
    directory = Path(resolve_model_path(model))
    if not directory.is_dir():
        raise OnnxUnavailable(f"embedding model {model!r} is not a local directory")
    name = PACKAGED_MINILM if str(directory) != model else model
    modules = _read_json(directory / "modules.json") if (directory / "modules.json").exists() else None
    kinds = [str(module.get("type", "")).rsplit(".", 1)[-1] for module in modules or []]
    if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
        raise OnnxUnavailable(f"embedding model {model!r} has modules {kinds}; the ONNX path handles mean pooling only")
    pooling_dir = directory / str(modules[1].get("path", "1_Pooling"))  # type: ignore[index]
    pooling = _read_json(pooling_dir / "config.json")
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
    if modes != {"pooling_mode_mean_tokens"}:
        raise OnnxUnavailable(f"embedding model {model!r} pools with {sorted(modes)}; the ONNX path does mean only")
    config = _read_json(directory / "config.json")
    if config.get("model_type") not in SUPPORTED_MODEL_TYPES:
        raise OnnxUnavailable(
            f"embedding model {model!r} is a {config.get('model_type')!r} model; the ONNX path "
            f"handles {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    st_config = _read_json(directory / "sentence_bert_config.json")
    max_positions = int(config.get("max_position_embeddings", 512))
    max_seq_length = min(int(st_config.get("max_seq_length") or max_positions), max_positions)
    if not (directory / "tokenizer.json").exists():
        raise OnnxUnavailable(f"embedding model {model!r} has no tokenizer.json (a fast tokenizer is needed)")
    weights = next((directory / file for file in WEIGHT_FILES if (directory / file).exists()), None)
    if weights is None:
        raise OnnxUnavailable(f"embedding model {model!r} has no {' or '.join(WEIGHT_FILES)}")
    return ModelLayout(
        name=name,
        directory=directory,
        weights=weights,
        max_seq_length=max_seq_length,
        dimension=int(pooling.get("word_embedding_dimension") or config["hidden_size"]),
    )


def load_tokenizer(layout: ModelLayout) -> Any:
    """The model's fast tokenizer, truncating at max_seq_length and padding to the longest text of a batch,
    as sentence-transformers tokenises (tokenizer.json's own truncation and fixed padding are replaced)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(layout.tokenizer_file))
    tokenizer.enable_truncation(max_length=layout.max_seq_length)
    padding = tokenizer.padding or {}
    tokenizer.enable_padding(pad_id=int(padding.get("pad_id", 0)), pad_token=str(padding.get("pad_token", "[PAD]")))
    return tokenizer


def mean_pool_normalise(hidden: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Mean of the token vectors the mask keeps, scaled to unit length (float32)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    result: np.ndarray[Any, Any] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return result


def session_options(threads: int = 1) -> Any:
    """onnxruntime options: `threads` intra-op threads (1: run on the caller's thread), one inter-op thread,
    sequential execution, no spinning workers, all graph optimisations."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads would otherwise spin for a while after each run, burning the core Neo4j needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


class OnnxEmbedder:
    """Embeds with the ONNX export of a sentence-transformers model; vectors match the torch model's.

    Calls with fewer than `batch_from` texts (queries) run on a session with `threads` intra-op threads
    (1: the caller's thread only, so a query leaves the other core to Neo4j and a busy machine cannot stall
    it waiting for a descheduled worker); larger calls (adds, imports) on a second session with
    `batch_threads`, created on first use (about 90 MB more), which is faster than torch for batches
    (bench/results/embed.md). Thread-safe: onnxruntime sessions accept concurrent runs.
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 64,
        *,
        onnx_path: Path | None = None,
        threads: int = 1,
        batch_threads: int = 2,
        batch_from: int = 8,
    ) -> None:
        layout = model_layout(model)
        path = onnx_path or layout.onnx_path()
        if not path.is_file():
            raise OnnxUnavailable(
                f"no ONNX export of {layout.name!r} at {path} (scripts/setup.sh writes it: "
                f"python -m memos_graph.embeddings.export_onnx)"
            )
        self._layout = layout
        self._path = path
        self._batch_size = batch_size
        self._threads = threads
        self._batch_threads = batch_threads
        self._batch_from = batch_from
        self._sessions: dict[int, Any] = {}
        self._sessions_lock = threading.Lock()
        self._session(threads)  # load now: a corrupt file fails here, where the factory can fall back
        self._tokenizer = load_tokenizer(layout)

    @property
    def model_name(self) -> str:
        """The configured model's name (the same as the torch embedder's, so stored cubes match)."""
        return self._layout.name

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._layout.dimension

    @property
    def onnx_path(self) -> Path:
        """The export this embedder runs."""
        return self._path

    def _session(self, threads: int) -> Any:
        session = self._sessions.get(threads)
        if session is not None:
            return session
        with self._sessions_lock:
            session = self._sessions.get(threads)
            if session is None:
                try:
                    import onnxruntime as ort

                    session = ort.InferenceSession(
                        str(self._path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own untyped errors for corrupt files
                    raise OnnxUnavailable(f"cannot load ONNX export {self._path}: {exc}") from exc
                inputs = {node.name for node in session.get_inputs()}
                if inputs != set(INPUT_NAMES):
                    raise OnnxUnavailable(f"ONNX export {self._path} takes {sorted(inputs)}, not {list(INPUT_NAMES)}")
                self._sessions[threads] = session
        return session

    def embed_array(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Embed texts as a float32 array (len(texts), dimension), in order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._session(self._threads if len(texts) < self._batch_from else self._batch_threads)
        if len(texts) == 1:
            return self._run(session, [texts[0]])
        # Like sentence-transformers: batches of similar lengths, so little padding is computed.
        order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            result[chunk] = self._run(session, [texts[index] for index in chunk])
        return result

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed a batch of texts in one call, in order."""
        vectors: list[list[float]] = self.embed_array(texts).tolist()
        return vectors

    def _run(self, session: Any, texts: list[str]) -> np.ndarray[Any, Any]:
        # One text needs no padding; encode() also stays off the tokenizer's worker pool.
        encodings = [self._tokenizer.encode(texts[0])] if len(texts) == 1 else self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run([OUTPUT_NAME], feeds)
        return mean_pool_normalise(hidden, mask)
