"""What the fuzzing tests share: the corpus of hostile strings, hypothesis strategies mixing it with generated
text, the figures a run collects (inputs per form and per API operation, 5xx, races) and a burst helper.

Two sizes (hypothesis settings profiles): "ci" (the default, a few examples per form, part of `make test`) and
"fuzz" (`make fuzz`, HYPOTHESIS_PROFILE=fuzz: thousands of examples)."""
from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG = PROFILE == "fuzz"

_SHARED = {"deadline": None, "derandomize": False,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]}
settings.register_profile("ci", max_examples=3, database=None, **{**_SHARED, "derandomize": True})
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), database=None, **_SHARED)
settings.load_profile(PROFILE)


# ---------------------------------------------------------------- the corpus

def _entry(line: str) -> str:
    value = json.loads(line)
    if isinstance(value, dict):
        return value.get("prefix", "") + value["repeat"] * int(value["times"]) + value.get("suffix", "")
    if not isinstance(value, str):
        raise ValueError(f"not a JSON string or repeat object: {line!r}")
    return value


def load(name: str) -> list[str]:
    """The inputs of one class (corpus/<name>.txt)."""
    inputs = []
    for number, line in enumerate((CORPUS / f"{name}.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            inputs.append(_entry(line))
        except ValueError as error:
            raise ValueError(f"corpus/{name}.txt line {number}: {error}") from error
    return inputs


def classes() -> list[str]:
    return sorted(path.stem for path in CORPUS.glob("*.txt"))


def corpus(*names: str) -> list[str]:
    """Every text input (all classes but the byte class, or only the named ones)."""
    chosen = names or [name for name in classes() if name != "invalid-utf8"]
    return [text for name in chosen for text in load(name)]


def invalid_bytes() -> list[bytes]:
    return [text.encode("latin-1") for text in load("invalid-utf8")]


def hostile_text(*names: str, max_size: int = 200) -> st.SearchStrategy[str]:
    """A corpus entry, generated text (any code point, surrogates included), or both glued together."""
    known = st.sampled_from(corpus(*names))
    generated = st.text(max_size=max_size)
    return st.one_of(known, generated, st.tuples(generated, known, generated).map("".join))


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(load("numbers")), st.integers().map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr), hostile_text(max_size=20))


# ---------------------------------------------------------------- figures of a run

class Figures:
    """Inputs tried per form and per API operation, 5xx found, races found; summed over the session."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inputs: Counter = Counter()
        self.server_errors: list[dict] = []
        self.races: list[dict] = []
        self.bursts: Counter = Counter()

    def tried(self, kind: str, name: str, count: int = 1) -> None:
        with self.lock:
            self.inputs[f"{kind} {name}"] += count

    def server_error(self, where: str, sent, status: int, detail: str = "") -> None:
        with self.lock:
            self.server_errors.append({"where": where, "input": repr(sent)[:4000], "status": status,
                                       "detail": detail[-800:]})

    def burst(self, name: str, race: str | None = None) -> None:
        with self.lock:
            self.bursts[name] += 1
            if race:
                self.races.append({"where": name, "detail": race})

    def as_dict(self) -> dict:
        per_kind: dict[str, dict[str, int]] = {}
        for key, count in sorted(self.inputs.items()):
            kind, name = key.split(" ", 1)
            per_kind.setdefault(kind, {})[name] = count
        return {"profile": PROFILE, "inputs": per_kind,
                "totals": {kind: sum(names.values()) for kind, names in per_kind.items()},
                "bursts": dict(self.bursts), "server_errors_found": len(self.server_errors),
                "server_errors": self.server_errors, "races_found": len(self.races), "races": self.races}


FIGURES = Figures()


# ---------------------------------------------------------------- bursts

def burst(count: int, action, *args_per_thread) -> list:
    """Run action(index) (or action(index, args_per_thread[0][index], ...)) in `count` threads released together
    by a barrier; return each thread's result or the exception it raised, in thread order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        extra = [values[index] for values in args_per_thread]
        try:
            barrier.wait(timeout=30)
            results[index] = action(index, *extra)
        except BaseException as error:  # noqa: BLE001 (reported to the test, which decides)
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,), name=f"burst-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
