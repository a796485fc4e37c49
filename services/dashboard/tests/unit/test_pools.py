import pytest

from tillkey.dashboard.service_layer.errors import Rejected, Unavailable
from tillkey.dashboard.service_layer.pools import MAX_KEYS_PER_CALL, add_keys, read_keys, use_pool


def test_keys_come_from_pasted_lines_and_a_csvs_first_column_without_its_header():
    csv = b"key,note\nCSV-1,first\n\n\"CSV-2\",second\n"
    assert read_keys("  A-1 \n\nA-2\n", csv) == ["A-1", "A-2", "CSV-1", "CSV-2"]
    assert read_keys("", "\ufeffkey\nB-1\n".encode()) == ["B-1"]


@pytest.mark.parametrize("pasted, data", [("", None), ("  \n ", b"key\n"), ("", b"\xff\xfe\x00")])
def test_no_keys_or_an_unreadable_file_is_refused(pasted, data):
    with pytest.raises(Rejected):
        read_keys(pasted, data)


class Api:
    def __init__(self):
        self.calls = []

    def call(self, service, method, path, key, *, params=None, body=None):
        self.calls.append((service, method, path, body))
        if method == "POST":
            return {"added": len(body["keys"]) - 1, "duplicates": 1, "available": 7}
        return body


def test_many_keys_go_in_calls_fulfillment_takes_and_the_counts_add_up():
    api = Api()
    result = add_keys(api, "k", "prod_1", [f"K-{i}" for i in range(MAX_KEYS_PER_CALL + 5)])
    assert [len(c[3]["keys"]) for c in api.calls] == [MAX_KEYS_PER_CALL, 5]
    assert result == {"added": MAX_KEYS_PER_CALL + 3, "duplicates": 2, "available": 7}


def test_a_threshold_that_is_not_a_whole_number_sends_nothing():
    api = Api()
    for wrong in ("-1", "ten", "2000000"):
        with pytest.raises(Rejected):
            use_pool(api, "k", "prod_1", wrong)
    assert api.calls == []
    use_pool(api, "k", "prod_1", "")
    assert api.calls[-1][3] == {"method": "pool", "low_stock_threshold": 0}


class FailingApi(Api):
    """Takes the first call, then fails as a service that refuses or does not answer would."""

    def __init__(self, failure):
        super().__init__()
        self.failure = failure

    def call(self, service, method, path, key, *, params=None, body=None):
        if self.calls:
            raise self.failure
        return super().call(service, method, path, key, body=body)


@pytest.mark.parametrize("failure", [Rejected("The pool is full."), Unavailable("fulfillment")])
def test_an_upload_failing_half_way_says_which_keys_are_in_the_pool(failure):
    keys = [f"K-{i}" for i in range(MAX_KEYS_PER_CALL + 5)]
    with pytest.raises(Rejected) as caught:
        add_keys(FailingApi(failure), "k", "prod_1", keys)
    assert f"Keys 1 to {MAX_KEYS_PER_CALL} were sent before it ({MAX_KEYS_PER_CALL - 1} added, 1 already there)" \
        in caught.value.detail
    assert f"from key {MAX_KEYS_PER_CALL + 1} on, nothing was added" in caught.value.detail


@pytest.mark.parametrize("failure", [Rejected("No."), Unavailable("fulfillment")])
def test_a_first_call_failing_is_the_failure_itself(failure):
    api = FailingApi(failure)
    api.calls.append("a call before: every call fails")
    with pytest.raises(type(failure)):
        add_keys(api, "k", "prod_1", ["K-1"])
