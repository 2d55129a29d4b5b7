"""Beat jobs of the affiliate program (thin: the work is in the modules they call)."""

from celery import shared_task

from affiliates.clicks import clicks_flush


@shared_task(name="affiliates.clicks_flush")
def clicks_flush_task() -> int:
    return clicks_flush()
