"""Accuracy of the support assistant on the shipped evaluation set (bot/support/eval_set.json).

Run: `.venv/bin/python bench/support_eval.py [--offline]`. Uses the configured `[llm]` model
(config.toml / BOUTIK_CONFIG, key from OPENAI_API_KEY) or, without one, the offline retrieval.
It builds a throw-away SQLite world — a buyer with one delivered order and another buyer's
order — so the questions about "my order" have real data and cross-user reads are counted.
Why a script and not only a test: a model's accuracy is measured against a live server, which
tests must not need.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commerce.text import fold  # noqa: E402

EVAL_SET = ROOT / "bot" / "support" / "eval_set.json"


@dataclass(frozen=True)
class Question:
    lang: str
    kind: str  # "faq" | "data"
    q: str
    expect: tuple[str, ...]
    forbid: tuple[str, ...] = ()

    def filled(self, ids: dict[str, Any]) -> Question:
        return Question(
            self.lang,
            self.kind,
            self.q.format(**ids),
            tuple(e.format(**ids) for e in self.expect),
            tuple(f.format(**ids) for f in self.forbid),
        )


def load_eval_set() -> list[Question]:
    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    return [
        Question(q["lang"], q["kind"], q["q"], tuple(q["expect"]), tuple(q.get("forbid", ())))
        for q in data["questions"]
    ]


def is_correct(answer: str, question: Question) -> bool:
    """Every expected fact present and no forbidden one (accent- and case-insensitive)."""
    text = f" {fold(answer)} "
    # fold() turns "24h/24" into "24h 24": compare folded facts to the folded answer.
    return all(fold(e) in text for e in question.expect) and not any(
        fold(f) in text for f in question.forbid
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="ignore any configured model")
    args = parser.parse_args(argv)

    from bot.support.agent import answer, model_configured
    from bot.support.scoped import ScopedReader
    from boutik.runtime import rules_from_config
    from commerce import rules
    from devtools.testkit import flows
    from devtools.testkit.db import migrate, open_db
    from settings.config import load_config

    config = load_config()
    if args.offline:
        config = config.replace(llm__base_url="", llm__model="")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/eval.db"
        migrate(url)
        db = open_db(url)
        rules.bind(db.factory, rules_from_config(config))
        mine = flows.place(db)
        flows.deliver(db, mine)
        other = flows.place(db)
        ids = {"order_id": mine.order_id, "other_order_id": other.order_id}
        mode = "model " + config.llm.model if model_configured(config) else "offline"
        results: dict[str, list[bool]] = {"faq": [], "data": []}
        cross = 0
        started = time.monotonic()
        for raw in load_eval_set():
            question = raw.filled(ids)
            with db.session() as session:
                reader = ScopedReader(session, mine.buyer_id, lang=question.lang)
                reply = answer(
                    session,
                    user_id=mine.buyer_id,
                    text=question.q,
                    lang=question.lang,
                    config=config,
                    reader=reader,
                )
                cross += len(reader.audit.cross_user_reads())
            ok = is_correct(reply.text, question)
            results[question.kind].append(ok)
            if not ok:
                print(f"MISS [{question.lang}] {question.q!r} -> {reply.text[:120]!r}")
        elapsed = time.monotonic() - started
        db.engine.dispose()
    total = results["faq"] + results["data"]
    print(f"mode: {mode}")
    for kind, oks in results.items():
        print(f"{kind}: {sum(oks)}/{len(oks)} = {100 * sum(oks) / max(1, len(oks)):.0f}%")
    print(f"all: {sum(total)}/{len(total)} = {100 * sum(total) / max(1, len(total)):.0f}%")
    print(f"cross-user reads: {cross}; {elapsed / max(1, len(total)):.2f} s per question")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
