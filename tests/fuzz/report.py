"""What the fuzz suite saw, per rpc and endpoint: cases run, answers by status, and the cases it sets apart
(malformed bytes grpcio refused before our code ran; failures still open and listed as KNOWN). Printed at the
end of the pytest run."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

EXAMPLES = int(os.environ.get("AI4COP_FUZZ_EXAMPLES", "40"))
"""Cases per rpc and endpoint: a bounded number in CI; ``AI4COP_FUZZ_EXAMPLES=5000 pytest -m fuzz`` runs long."""


@dataclass
class Row:
    cases: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    peak_rss: int = 0


@dataclass
class Tally:
    rows: dict[str, Row] = field(default_factory=lambda: defaultdict(Row))
    # what each component was sent, to replay for the memory check (bounded: the last cases of each rpc)
    corpus: dict[str, dict[str, list[bytes]]] = field(default_factory=lambda: defaultdict(dict))
    notes: list[str] = field(default_factory=list)

    def count(self, key: str, answer: str, rss: int = 0) -> None:
        row = self.rows[key]
        row.cases += 1
        row.answers[answer] += 1
        row.peak_rss = max(row.peak_rss, rss)

    def record(self, component: str, method: str, request: bytes, keep: int = 100) -> None:
        sent = self.corpus[component].setdefault(method, [])
        sent.append(request)
        del sent[:-keep]

    def lines(self) -> list[str]:
        out = []
        for key in sorted(self.rows):
            row = self.rows[key]
            answers = ", ".join(f"{name} {n}" for name, n in row.answers.most_common())
            peak = f"; peak RSS {row.peak_rss / 2**20:.0f} MiB" if row.peak_rss else ""
            out.append(f"{key}: {row.cases} cases ({answers}){peak}")
        return out + self.notes


TALLY = Tally()
