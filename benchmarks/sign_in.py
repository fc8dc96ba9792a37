"""Figures for sign-in: Argon2id cost at production parameters, and session-backed page throughput."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402

from config import defaults  # noqa: E402


def argon2_cost(rounds: int = 10) -> None:
    hasher = PasswordHasher(time_cost=defaults.ARGON2_TIME_COST, memory_cost=defaults.ARGON2_MEMORY_COST,
                            parallelism=defaults.ARGON2_PARALLELISM)
    stored = hasher.hash("benchmark passphrase of decent length")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        hasher.verify(stored, "benchmark passphrase of decent length")
        times.append(time.perf_counter() - start)
    print(f"Argon2id t={defaults.ARGON2_TIME_COST} m={defaults.ARGON2_MEMORY_COST} KiB p={defaults.ARGON2_PARALLELISM}: "
          f"median {statistics.median(times) * 1000:.1f} ms per verification ({rounds} rounds)")


def session_pages(requests: int = 300) -> None:
    from flask_migrate import upgrade

    from app import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE_PATH": folder, "TESTING": True, "SECRET_KEY": "b" * 48, "MASTER_KEY": "m" * 48,
                          "SESSION_COOKIE_SECURE": False, "MAIL_BACKEND": "console"})
        with app.app_context():
            upgrade(directory=str(Path(app.root_path) / "migrations"))
        client = app.test_client()
        client.get("/sign-in")  # creates the session record
        start = time.perf_counter()
        for _ in range(requests):
            assert client.get("/sign-in").status_code == 200
        elapsed = time.perf_counter() - start
        print(f"GET /sign-in with a server-side session: {requests / elapsed:.0f} requests/s "
              f"({elapsed / requests * 1000:.2f} ms each, one process, SQLite)")


if __name__ == "__main__":
    argon2_cost()
    session_pages()
