"""Document chunking: Chinese text breaks at sentence ends within the chunk size, never mid-sentence."""

from __future__ import annotations

import re

from memos_graph.chunking.documents import DocumentChunker

SENTENCE_END = re.compile(r"[。！？；][”」』]?")
SENTENCES = [
    "上海是中国最大的城市之一，也是重要的经济中心。",
    "黄浦江穿城而过，把城市分成浦东和浦西两部分。",
    "你去过外滩吗？",
    "那里的夜景非常漂亮！",
    "他说：“明天我们一起去博物馆。”",
    "博物馆的藏品包括青铜器、陶瓷、书画和家具；每年吸引数百万游客。",
    "周末的时候，很多家庭会带着孩子去公园散步，或者在江边骑自行车。",
    "这座城市的历史可以追溯到宋朝，当时它还只是一个小小的渔村。",
]


def test_chinese_is_cut_at_sentence_ends_within_the_size() -> None:
    document = "".join(SENTENCES * 3)
    chunks = DocumentChunker(chunk_size=80, overlap=20).split(document, markdown=False)
    assert len(chunks) > 3
    sentence_starts = {0} | {match.end() for match in SENTENCE_END.finditer(document)}
    for chunk in chunks:
        assert len(chunk.text) <= 80
        assert SENTENCE_END.fullmatch(chunk.text[-2:]) or SENTENCE_END.fullmatch(chunk.text[-1]), chunk.text
        assert any(document.startswith(chunk.text, start) for start in sentence_starts), chunk.text
    # Nothing lost: every sentence of the document is whole in some chunk.
    assert all(any(sentence in chunk.text for chunk in chunks) for sentence in SENTENCES)


def test_a_sentence_longer_than_the_size_breaks_at_a_comma() -> None:
    sentence = "这是一个很长的句子，" * 6 + "最后结束。"
    chunks = DocumentChunker(chunk_size=25, overlap=0).split(sentence, markdown=False)
    assert "".join(chunk.text for chunk in chunks) == sentence
    assert all(chunk.text.endswith(("，", "。")) for chunk in chunks)


def test_english_still_breaks_between_words() -> None:
    text = " ".join(["alpha beta gamma delta"] * 20)
    chunks = DocumentChunker(chunk_size=50, overlap=0).split(text, markdown=False)
    words = {"alpha", "beta", "gamma", "delta"}
    assert all(set(chunk.text.split()) <= words for chunk in chunks)
    assert " ".join(chunk.text for chunk in chunks) == text
