"""How a lost Ray worker's cause is decided when Ray only says "unavailable" (the connection
closed before the node's missed heartbeats were counted). The cluster's answers are scripted
here: a real node removal is tests/executor/test_ray_runs.py; this pins the decision itself."""

from __future__ import annotations

import asyncio

from harness_ls.executor import control


class Answers:
    """A backend whose node_alive answers come from a list (the last one repeats)."""

    def __init__(self, *answers: bool | None | Exception) -> None:
        self.answers, self.asked = list(answers), 0

    def node_alive(self, node_id: str) -> bool | None:
        answer = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


def fate(backend: Answers, wait: float = 5.0) -> str:
    control.NODE_FATE_WAIT = wait
    try:
        return asyncio.run(control._node_fate(backend, "n1", "worker lost"))
    finally:
        control.NODE_FATE_WAIT = 15.0


def test_a_node_marked_dead_while_waiting_is_the_cause():
    backend = Answers(True, True, False)
    assert fate(backend) == "node lost"
    assert backend.asked == 3


def test_a_node_the_cluster_no_longer_knows_is_lost():
    assert fate(Answers(None)) == "node lost"


def test_a_node_still_alive_after_the_wait_leaves_the_worker_as_the_cause():
    assert fate(Answers(True), wait=0.3) == "worker lost"


def test_a_cluster_that_cannot_answer_keeps_what_the_error_said():
    assert fate(Answers(RuntimeError("gcs down"))) == "worker lost"
