"""The topology is data derived from the event table, named and shaped the nameko way."""

from __future__ import annotations

import pytest

from contracts.events import EVENTS
from eventbus import build_topology, handler_method
from eventbus.topology import DEAD_LETTER_EXCHANGE


def test_one_exchange_per_producer_declared_like_nameko() -> None:
    topology = build_topology()
    specs = {e.name: e for e in topology.exchanges}
    for route in EVENTS:
        spec = specs[f"{route.producer}.events"]
        assert (spec.type, spec.durable) == ("topic", True)
    assert specs[DEAD_LETTER_EXCHANGE].type == "direct"
    assert len(specs) == len({r.producer for r in EVENTS}) + 1


def test_a_queue_triple_per_consumer_and_event() -> None:
    topology = build_topology()
    expected = sum(len(r.consumers) for r in EVENTS)
    broadcast = sum(len(r.broadcast_to) for r in EVENTS)
    assert len(topology.consumer_queues) == expected
    # A broadcast consumer's delay queues belong to its instances: record queue + DLQ here.
    assert len(topology.queues) == 3 * (expected - broadcast) + 2 * broadcast
    cq = topology.consumer_queue("legacy_sync", "transactions_ingested")
    assert cq.name == (
        "evt-ingestion-transactions_ingested--legacy_sync.handle_transactions_ingested"
    )
    assert cq.retry_queue == cq.name + ".retry"
    assert cq.dead_letter_queue == cq.name + ".dlq"


def test_main_queues_have_no_arguments_so_nameko_can_declare_them_too() -> None:
    topology = build_topology()
    main = {cq.name for cq in topology.consumer_queues}
    for queue in topology.queues:
        if queue.name in main:
            assert dict(queue.arguments) == {}
            assert queue.durable


def test_retry_queue_dead_letters_back_to_its_own_queue_only() -> None:
    cq = build_topology().consumer_queue("monitoring", "prediction_logged")
    retry = next(q for q in cq.queues() if q.name == cq.retry_queue)
    assert dict(retry.arguments) == {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": cq.name,
    }


def test_bindings_route_each_event_to_each_consumer_and_parked_messages_to_their_dlq() -> None:
    topology = build_topology()
    bindings = {(b.queue, b.exchange, b.routing_key) for b in topology.bindings}
    for route in EVENTS:
        for consumer in route.consumers:
            cq = topology.consumer_queue(consumer, route.event_type)
            assert (cq.name, route.exchange, route.event_type) in bindings
            assert (cq.dead_letter_queue, DEAD_LETTER_EXCHANGE, cq.dead_letter_queue) in bindings


def test_policy_dead_letters_rejections_of_exactly_one_queue() -> None:
    cq = build_topology().consumer_queue("training", "transactions_ingested")
    policy = cq.policy()
    assert policy.apply_to == "queues"
    assert dict(policy.definition) == {
        "dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "dead-letter-routing-key": cq.dead_letter_queue,
    }
    import re

    assert re.match(policy.pattern, cq.name)
    assert not re.match(policy.pattern, cq.retry_queue)
    assert not re.match(policy.pattern, cq.name.replace("training", "trainingX"))


def test_lookups_by_any_queue_name_and_unknown_names_fail() -> None:
    topology = build_topology()
    cq = topology.consumer_queue("inference", "model_promoted")
    for name in (cq.name, cq.retry_queue, cq.dead_letter_queue):
        assert topology.by_queue_name(name) == cq
    with pytest.raises(KeyError):
        topology.by_queue_name("evt-nope")
    with pytest.raises(KeyError):
        topology.consumer_queue("legacy_sync", "model_promoted")
    assert handler_method("drift_detected") == "handle_drift_detected"


def test_each_instance_of_a_broadcast_consumer_gets_its_own_expiring_queues() -> None:
    topology = build_topology()
    shared = topology.consumer_queue("inference", "model_promoted")
    assert shared.per_instance
    assert shared.policy().definition == {"max-length": 100, "overflow": "drop-head"}
    a = topology.instance_queue("inference", "model_promoted", "host-1")
    b = topology.instance_queue("inference", "model_promoted", "host-2")
    assert a.name == shared.name + "@host-1" and a.name != b.name
    assert a.dead_letter_queue == shared.dead_letter_queue  # one parking lot per consumer
    specs = {q.name: dict(q.arguments) for q in a.queues()}
    assert specs[a.name] == {"x-expires": 3_600_000}
    assert specs[a.retry_queue]["x-dead-letter-routing-key"] == a.name
    assert [(b.queue, b.routing_key) for b in a.bindings()] == [(a.name, "model_promoted")]
    assert topology.by_queue_name(a.retry_queue) == a
    with pytest.raises(ValueError, match="not a broadcast consumer"):
        topology.consumer_queue("training", "transactions_ingested").for_instance("x")
    with pytest.raises(ValueError, match="instance id"):
        shared.for_instance("bad name")
