"""The onnxruntime embedder against the torch one: the same vectors, and the factory's choice between them.

Real model, real export (the one scripts/setup.sh writes; exported here into the cache if it is missing),
no mocks.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from memos_graph.config import EmbedderSettings
from memos_graph.embeddings import Embedder, build_embedder
from memos_graph.embeddings.export_onnx import export_onnx
from memos_graph.embeddings.factory import build_english_embedder
from memos_graph.embeddings.onnx import OnnxEmbedder, OnnxUnavailable, model_layout, onnx_dir
from memos_graph.embeddings.routed import RoutedEmbedder
from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder

MODEL = "all-MiniLM-L6-v2"
MIN_COSINE = 0.9999

TEXTS = [
    # one word, short questions and memories
    "cello",
    "Hi",
    "What instrument does Alice play?",
    "Where does Bob live now?",
    "Alice likes football",
    "Alice lives in Lyon",
    "Carol started a new job at the museum last Monday.",
    "Dmitri cooked dinner for his grandparents on Saturday morning.",
    "The quarterly report is due on the 15th; remind Emeka two days before.",
    "I prefer tea over coffee, but only green tea, never with sugar.",
    "Meeting moved from 10:00 to 14:30 (room B-204).",
    "user: can you book a table for four at 8pm? assistant: done, at Chez Marcel.",
    "Fatima's flight BA 2491 leaves Heathrow at 07:15 on 3 March 2027.",
    "Grace has been learning Japanese for two years and passed JLPT N4.",
    "Hiro ran a half marathon in 1:52:10, his personal best.",
    "Remember: the wifi password changed; ask Ines for it.",
    "Jonas is allergic to peanuts and shellfish.",
    "The cat's name is Miso and she is 7 years old.",
    "def embed(texts): return model.encode(texts)",
    "SELECT * FROM memories WHERE cube_id = 'c1' LIMIT 10;",
    "https://example.org/path?query=1&other=two#fragment",
    "e-mail: someone@example.com, phone +33 6 12 34 56 78",
    "12345 67890 3.14159 2.71828",
    "!!! ??? ... --- ***",
    # unicode
    "Ünïcödé: café, naïve, façade, Größe, smørrebrød",
    "你好，世界。我喜欢喝茶。",
    "こんにちは、元気ですか？",
    "Привет, как дела?",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "emoji 🎻🎉👍🏽 and ‘curly quotes’ — dashes",
    "Zero\u200bwidth\u200bspaces and non\u00a0breaking spaces",
    "Tabs\tand\nnew\nlines\r\nmixed",
    # empty-ish
    "",
    " ",
    "   \n\t  ",
    ".",
    "a",
    "[CLS]",
    "[PAD] [PAD]",
    # whitespace around text
    "   leading and trailing spaces   ",
    # long: past the 256-token truncation
    " ".join(f"token{index}" for index in range(400)),
    "Alice " * 300,
    "The history of the cello begins in the sixteenth century. " * 40,
    " ".join(["你好"] * 300),
    "word " * 255,
    "word " * 254 + "final",
    # repeated punctuation and casing
    "ALICE LIKES FOOTBALL",
    "alice likes football",
    "AlIcE lIkEs FoOtBaLl!!!",
]


@pytest.fixture(scope="module")
def onnx_path() -> Path:
    """The set-up export (made now if set-up has not run in this cache)."""
    return export_onnx(MODEL)


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(MODEL)


@pytest.fixture(scope="module")
def onnx_embedder(onnx_path: Path) -> OnnxEmbedder:
    return OnnxEmbedder(MODEL, onnx_path=onnx_path)


def _cosines(left: list[list[float]], right: list[list[float]]) -> np.ndarray:
    a, b = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    cosines: np.ndarray = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return cosines


def test_texts_cover_truncation() -> None:
    layout = model_layout(MODEL)
    assert layout.max_seq_length == 256
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(layout.tokenizer_file))
    raw.no_truncation()
    long_texts = [text for text in TEXTS if len(raw.encode(text).ids) > 256]
    assert len(long_texts) >= 4
    assert len(TEXTS) >= 50


@pytest.mark.slow
def test_same_identity_as_torch(onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(onnx_embedder, Embedder)
    assert onnx_embedder.model_name == torch_embedder.model_name == MODEL
    assert onnx_embedder.dimension == torch_embedder.dimension == 384


@pytest.mark.slow
def test_one_at_a_time_matches_torch(onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder) -> None:
    onnx_vectors = [onnx_embedder.embed([text])[0] for text in TEXTS]
    torch_vectors = [torch_embedder.embed([text])[0] for text in TEXTS]
    cosines = _cosines(onnx_vectors, torch_vectors)
    worst = int(cosines.argmin())
    assert cosines.min() >= MIN_COSINE, f"cosine {cosines[worst]:.6f} for {TEXTS[worst][:60]!r}"
    norms = np.linalg.norm(np.asarray(onnx_vectors), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [4, 64])
def test_batches_match_torch(onnx_path: Path, torch_embedder: SentenceTransformerEmbedder, batch_size: int) -> None:
    # Both sessions (the query one for small calls, the batch one from 8 texts) and padding within batches.
    embedder = OnnxEmbedder(MODEL, batch_size=batch_size, onnx_path=onnx_path)
    onnx_vectors = embedder.embed(TEXTS)
    torch_vectors = torch_embedder.embed(TEXTS)
    assert len(onnx_vectors) == len(TEXTS)
    cosines = _cosines(onnx_vectors, torch_vectors)
    worst = int(cosines.argmin())
    assert cosines.min() >= MIN_COSINE, f"cosine {cosines[worst]:.6f} for {TEXTS[worst][:60]!r}"
    small = embedder.embed(TEXTS[:5])
    assert _cosines(small, torch_vectors[:5]).min() >= MIN_COSINE
    assert embedder.embed([]) == []


def test_order_is_kept(onnx_embedder: OnnxEmbedder) -> None:
    texts = TEXTS[:20]
    batch = onnx_embedder.embed(texts)
    reversed_batch = onnx_embedder.embed(texts[::-1])[::-1]
    assert _cosines(batch, reversed_batch).min() >= 0.99999


def test_factory_picks_onnx_when_the_export_exists(onnx_path: Path) -> None:
    assert onnx_path.parent == onnx_dir()
    embedder = build_english_embedder(EmbedderSettings())
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.onnx_path == onnx_path


@pytest.mark.slow
def test_the_default_embedder_routes_english_to_onnx_and_other_scripts_to_use(onnx_path: Path) -> None:
    embedder = build_embedder(EmbedderSettings())
    assert isinstance(embedder, RoutedEmbedder)
    assert isinstance(embedder.english, OnnxEmbedder) and embedder.english.onnx_path == onnx_path
    assert embedder.model_name == f"{MODEL}+use-multilingual-v3" and embedder.dimension == 896
    e5 = build_embedder(EmbedderSettings(multilingual="multilingual-e5-small"))
    assert e5.model_name == f"{MODEL}+multilingual-e5-small" and e5.dimension == 768
    off = build_embedder(EmbedderSettings(multilingual="off"))
    assert isinstance(off, OnnxEmbedder) and off.dimension == 384


def test_factory_falls_back_to_torch_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MEMOS_ONNX_DIR", str(tmp_path / "empty"))
    with pytest.raises(OnnxUnavailable):
        OnnxEmbedder(MODEL)
    with caplog.at_level(logging.WARNING, logger="memos_graph.embeddings.factory"):
        embedder = build_english_embedder(EmbedderSettings())
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.model_name == MODEL
    assert any("no ONNX export" in record.getMessage() for record in caplog.records)


def test_factory_falls_back_when_the_export_is_corrupt(
    onnx_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corrupt = tmp_path / onnx_path.name
    corrupt.write_bytes(onnx_path.read_bytes()[:1000])
    monkeypatch.setenv("MEMOS_ONNX_DIR", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="memos_graph.embeddings.factory"):
        embedder = build_english_embedder(EmbedderSettings())
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert any("cannot load ONNX export" in record.getMessage() for record in caplog.records)


def test_models_the_export_cannot_reproduce_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OnnxUnavailable, match="not a local directory"):
        model_layout("sentence-transformers/some-hub-model")
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    with pytest.raises(OnnxUnavailable, match="mean pooling only"):
        model_layout(str(tmp_path))


def test_explicit_sentence_transformer_backend_is_torch() -> None:
    english = build_english_embedder(EmbedderSettings(backend="sentence_transformer"))
    assert isinstance(english, SentenceTransformerEmbedder)


@pytest.mark.slow
def test_export_is_idempotent_and_atomic(onnx_path: Path, tmp_path: Path) -> None:
    before = onnx_path.stat().st_mtime_ns
    assert export_onnx(MODEL) == onnx_path
    assert onnx_path.stat().st_mtime_ns == before
    # A fresh export into another directory: only the final file is left, no temporary.
    target = export_onnx(MODEL, tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == [onnx_path.name]
    assert target.stat().st_size > 80_000_000
    shutil.rmtree(tmp_path)
