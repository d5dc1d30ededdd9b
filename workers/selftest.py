"""The `selftest` job: exercises the job machinery end to end (progress, failure, resume, duplicates).

Operators run it to check that a worker serves a queue; the tests use it to prove the guarantees every
real job relies on. Its effect is the list of steps it executed, recorded in the job's result: each step
runs exactly once across duplicates and redeliveries.
"""

import time
from typing import Any

from celery import shared_task

from workers.jobs import JobContext, run_job


class SelftestFailureError(RuntimeError):
    """Raised on purpose when the job is asked to fail at a step."""


def _selftest_body(ctx: JobContext) -> dict[str, Any]:
    steps = int(ctx.parameters.get("steps", 5))
    step_seconds = float(ctx.parameters.get("step_seconds", 0.05))
    fail_at = ctx.parameters.get("fail_at_step")
    executed: list[int] = list(ctx.partial.get("executed_steps", []))
    attempts: list[int] = [*ctx.partial.get("attempts", []), ctx.attempt]
    ctx.partial.update(executed_steps=executed, attempts=attempts)
    for step in range(len(executed), steps):
        if fail_at is not None and step == int(fail_at):
            raise SelftestFailureError(f"selftest asked to fail at step {step} of {steps}")
        time.sleep(step_seconds)
        executed.append(step)
        ctx.save_partial((step + 1) / steps, f"step {step + 1}/{steps}")
    return {"executed_steps": executed, "attempts": attempts}


@shared_task(name="jobs.selftest")
def selftest(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _selftest_body)
