"""bench_reindex's Chinese memories: the sentences of a squad-style file, distinct however many are asked."""

from __future__ import annotations

import json
from pathlib import Path

from bench.bench_reindex import chinese_sentences


def test_sentences_split_at_chinese_punctuation_and_stay_distinct(tmp_path: Path) -> None:
    data = {"data": [{"paragraphs": [{"context": "北京是中国的首都。上海是一座大城市！你去过吗？好。"}]}]}
    path = tmp_path / "trial.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert chinese_sentences(path, 3) == ["北京是中国的首都。", "上海是一座大城市！", "你去过吗？"]
    five = chinese_sentences(path, 5)
    assert len(set(five)) == 5 and five[3] == "北京是中国的首都。（1）"
