"""This run's facts: a fresh number and vendor, in one of the manifest's phrasings, drawn from a seed the report
prints (`--facts-seed` replays the draw)."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from stackgate.manifest import Manifest

# letters no reader confuses with a digit or another letter (no O/0, I/1/L, Z/2): OCR must read a vendor back exactly
SAFE_LETTERS = "ABCDEFGHJKMNPRSTUVWXY"


@dataclass(frozen=True)
class Draw:
    """The facts one run's round-trips state, and how to draw them again."""

    seed: int
    phrasing: str
    number: str   # 4000 and above: the services' worked examples use numbers below 4000
    vendor: str   # the phrasing's stem and three letters of this run

    def values(self) -> dict[str, str]:
        return {"number": self.number, "vendor": self.vendor, "phrasing": self.phrasing}

    def describe(self) -> str:
        return (f"phrasing {self.phrasing}, number {self.number}, vendor {self.vendor}; seed {self.seed} "
                f"(--facts-seed {self.seed} replays them)")


def draw(manifest: Manifest, seed: int | None = None) -> Draw:
    """The facts of a run: from seed when given (a replay), else from a fresh one."""
    seed = secrets.randbelow(10**9) if seed is None else seed
    r = random.Random(seed)
    drawn = [p for p in manifest.phrasings if p.drawn]
    phrasing = drawn[r.randrange(len(drawn))]
    return Draw(seed, phrasing.id, str(4000 + r.randrange(5000)),
                phrasing.vendor + "".join(r.choice(SAFE_LETTERS) for _ in range(3)))
