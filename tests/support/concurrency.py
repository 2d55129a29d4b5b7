"""Run works at the same moment, each on its own database connection, for tests of races."""

import threading

from django.db import connection


def run_together(*works) -> list:
    """Start every work at once, each on its own connection; their results or errors."""
    barrier = threading.Barrier(len(works))
    outcomes: list = [None] * len(works)

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[n] = works[n]()
        except Exception as error:  # the outcome under test
            outcomes[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
