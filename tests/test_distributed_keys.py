"""The Redis key names of a cluster (crawler.distributed.Keys) stay what a running cluster holds: a
worker of this version must find what `nianbao seed` and workers of an older one wrote."""

from __future__ import annotations

import pytest

from crawler.distributed import ARCHIVE_KEYS, KEY_PATTERNS, Keys

# every key, spelled out as the cluster stores it
EXPECTED = {
    ("registry", None): "nianbao:registry",
    ("only", None): "nianbao:only",
    ("crawl", None): "nianbao:crawl",
    ("portals", None): "nianbao:portals",
    ("starts", None): "nianbao:starts",
    ("dupefilter", None): "nianbao:dupefilter",
    ("queue", "gov-a"): "nianbao:queue:gov-a",
    ("inflight", "gov-a"): "nianbao:inflight:gov-a",
    ("owner", "gov-a"): "nianbao:owner:gov-a",
    ("state", "gov-a"): "nianbao:state:gov-a",
    ("counters", "gov-a"): "nianbao:counters:gov-a",
    ("finished", "gov-a"): "nianbao:finished:gov-a",
    ("diagnosed", "gov-a"): "nianbao:diagnosed:gov-a",
    ("diagnosis", "gov-a"): "nianbao:diagnosis:gov-a",
    ("worker", "w1"): "nianbao:worker:w1",
    ("progress", "w1"): "nianbao:progress:w1",
    ("slots", "www.a.gov.cn"): "nianbao:slots:www.a.gov.cn",
    ("next_at", "www.a.gov.cn"): "nianbao:next_at:www.a.gov.cn",
    ("robots", "www.a.gov.cn:8080"): "nianbao:robots:www.a.gov.cn:8080",
    ("robots_lock", "www.a.gov.cn:8080"): "nianbao:robots:www.a.gov.cn:8080:lock",
    ("digests", None): "nianbao:digests",
    ("validators", None): "nianbao:validators",
    ("records", None): "nianbao:records",
}


def test_key_names_are_those_a_running_cluster_holds():
    keys = Keys("nianbao")
    assert {kind for kind, _ in EXPECTED} == set(KEY_PATTERNS)  # a new kind gets its line above
    for (kind, name), expected in EXPECTED.items():
        assert keys.key(kind, name) == expected
    assert Keys("crawl2").key("queue", "gov-a") == "crawl2:queue:gov-a"
    assert {Keys("nianbao").key(kind) for kind in ARCHIVE_KEYS} == {
        "nianbao:digests", "nianbao:validators", "nianbao:records"}


def test_a_key_without_its_name_or_with_one_too_many_is_refused():
    keys = Keys("nianbao")
    with pytest.raises(ValueError):
        keys.key("queue")
    with pytest.raises(ValueError):
        keys.key("registry", "gov-a")
    with pytest.raises(KeyError):
        keys.key("nonsense")
