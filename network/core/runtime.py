"""The server process's garbage collector, settled once the application is built (issue 11).

Python's collector walks every container object it tracks when it collects its oldest generation. A server holds
hundreds of thousands of them for as long as it runs (the modules, SQLAlchemy's mappers and compiled statements,
the search engine's kept statements and analyses), and a collection of that generation took 60-150 ms, added to
whichever request was running: four or five of the search benchmark's 240 queries, each time. Settled:

- what exists when the application has been built is frozen (`gc.freeze`: moved out of every generation, never
  walked again; it lives as long as the process anyway);
- the youngest generation is collected after 50,000 allocations instead of 700, and the older ones less often:
  the same work in fewer, shorter pauses (at most about 20 ms in the benchmark's run, none of the oldest
  generation).

Cycles are still collected (by the younger generations, which hold what a request makes). create_app settles the
heap when SETTLE_HEAP is set (the default); the test suite, which builds hundreds of applications in one process,
turns it off."""
from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 100)  # gc.set_threshold: the youngest generation's allocations, then collections


def settle_heap() -> None:
    """Collect once, freeze what survives, and collect less often from now on (see the module's docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
