"""The quota check: apps at their replica maxima, plus the rollout surge, must fit."""

from __future__ import annotations

from components import AppArgs, Autoscaling, Quota, ResourceList, Resources
from stacks.capacity import peak_pods, quota_shortfalls


def app(**fields: object) -> AppArgs:
    return AppArgs(namespace="shop", name="api", image="registry.example.com/api:1.0.0", **fields)  # type: ignore[arg-type]


class TestCapacity:
    def test_peak_pods_are_the_maximum_plus_a_quarter_rounded_up(self) -> None:
        assert peak_pods(app(replicas=1)) == 2
        assert peak_pods(app(replicas=4)) == 5
        assert peak_pods(app(autoscaling=Autoscaling(min_replicas=2, max_replicas=10))) == 13

    def test_a_quota_that_fits_has_no_shortfall(self) -> None:
        assert quota_shortfalls(Quota(), [app(replicas=2)]) == []

    def test_each_exceeded_item_is_named_with_what_the_apps_need(self) -> None:
        big = Resources(requests=ResourceList(cpu="1", memory="1Gi"), limits=ResourceList(cpu="2", memory="2Gi"))
        shortfalls = quota_shortfalls(Quota(pods=10), [app(replicas=8, resources=big)])
        assert shortfalls == [
            "requestsCpu '4' < 10 CPU",
            "requestsMemory '8Gi' < 10.00Gi",
            "limitsCpu '8' < 20 CPU",
            "limitsMemory '16Gi' < 20.00Gi",
        ]
