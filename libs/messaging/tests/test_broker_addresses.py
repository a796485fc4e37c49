"""AMQP_URL with several addresses (no broker needed): how it is split, and that one URL is as before."""
import pytest

from tillkey.messaging.connection import connection_parameters
from tillkey.platform.broker_addresses import broker_urls, rotated

ONE = "amqp://guest:guest@127.0.0.1:5672/%2F"


def test_a_single_url_is_read_as_before():
    assert broker_urls(ONE) == [ONE]
    [params] = connection_parameters(ONE, "relay")
    assert (params.host, params.port, params.virtual_host, params.credentials.username) == (
        "127.0.0.1", 5672, "/", "guest")


def test_several_urls_are_split_at_the_commas_that_start_an_address():
    urls = broker_urls(" amqp://u:p@rabbit-1:5672/shop, amqps://u:p@rabbit-2:5671/shop,amqp://u:p@rabbit-3/shop ")
    assert urls == ["amqp://u:p@rabbit-1:5672/shop", "amqps://u:p@rabbit-2:5671/shop", "amqp://u:p@rabbit-3/shop"]
    params = connection_parameters(",".join(urls), "worker-consumer")
    assert [(p.host, p.port) for p in params] == [("rabbit-1", 5672), ("rabbit-2", 5671), ("rabbit-3", 5672)]
    # Our policy is on every address (pika takes the number of passes from the last one).
    assert {(p.heartbeat, p.connection_attempts, p.client_properties["connection_name"]) for p in params} == {
        (30, 1, "worker-consumer")}


def test_a_comma_inside_one_url_stays_in_it():
    url = "amqp://shop:pa,ss@rabbit-1:5672/%2F?heartbeat=30&channel_max=10,amqp://shop:x@rabbit-2:5672/%2F"
    assert broker_urls(url) == ["amqp://shop:pa,ss@rabbit-1:5672/%2F?heartbeat=30&channel_max=10",
                                "amqp://shop:x@rabbit-2:5672/%2F"]


@pytest.mark.parametrize("empty", ["", " , "])
def test_no_address_is_an_error(empty):
    with pytest.raises(ValueError):
        broker_urls(empty)


def test_each_reconnect_attempt_starts_one_address_further():
    assert [rotated(["a", "b", "c"], n) for n in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]
    assert rotated(["only"], 7) == ["only"]
