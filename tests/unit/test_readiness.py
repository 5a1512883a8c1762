"""Readiness: a required dependency down makes the process unready; Redis down only degrades."""

from tracking.application.ports import DependencyCheck
from tracking.application.queries.readiness import DependencyStatus, ReadinessHandler


class Check(DependencyCheck):
    def __init__(self, name: str, *, required: bool, answers: bool) -> None:
        self.name = name
        self.required = required
        self._answers = answers

    async def check(self) -> None:
        if not self._answers:
            raise ConnectionRefusedError


async def test_an_optional_dependency_down_is_degraded_and_the_process_stays_ready() -> None:
    report = await ReadinessHandler(
        [
            Check("database", required=True, answers=True),
            Check("redis", required=False, answers=False),
        ]
    )()
    assert report.ready
    assert report.dependencies == [
        DependencyStatus(name="database", status="ok"),
        DependencyStatus(name="redis", status="degraded", detail="ConnectionRefusedError"),
    ]


async def test_a_required_dependency_down_makes_the_process_unready() -> None:
    report = await ReadinessHandler(
        [
            Check("database", required=True, answers=False),
            Check("redis", required=False, answers=True),
        ]
    )()
    assert not report.ready
    assert [d.status for d in report.dependencies] == ["down", "ok"]
