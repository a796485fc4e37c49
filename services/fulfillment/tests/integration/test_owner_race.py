"""A product asked of orders while its product.created arrives: the API answers, never a 500."""
from __future__ import annotations

import pytest

from tillkey.fulfillment.domain.errors import NotFound
from tillkey.fulfillment.service_layer import merchant

from .conftest import MERCHANT, know_product

pytestmark = pytest.mark.integration


class EventArrivesWhileAsking:
    """Orders' answer, given just after the consumer stored the product from product.created."""

    def __init__(self, service, owner: str):
        self.service, self.owner = service, owner

    def product(self, product_id: str, _api_key: str) -> dict:
        know_product(self.service, product_id, merchant_id=self.owner)
        return {"product_id": product_id, "merchant_id": MERCHANT, "name": "Editor", "active": True}


def test_the_row_the_consumer_wrote_first_answers(service):
    merchant.ensure_owner(service.uow_factory, EventArrivesWhileAsking(service, MERCHANT), MERCHANT, "key",
                          "prod_race1")
    with service.uow_factory() as uow:
        assert uow.products.get("prod_race1").merchant_id == MERCHANT


def test_another_merchants_product_stays_not_found(service):
    with pytest.raises(NotFound):
        merchant.ensure_owner(service.uow_factory, EventArrivesWhileAsking(service, "mer_other0000"), MERCHANT,
                              "key", "prod_race2")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_consumer_writing_between_our_read_and_our_commit_is_no_500(service):
    """The window the unique violation came from: our read finds nothing, the consumer commits the
    row, our insert fails at its flush — and the consumer's row answers instead. PostgreSQL only: on
    SQLite our transaction holds the write lock from its BEGIN, so the consumer cannot get in."""
    asked = EventArrivesWhileAsking(service, MERCHANT)
    asked.product = lambda _pid, _key: {"product_id": "prod_race3", "merchant_id": MERCHANT, "name": "Editor"}
    reads = {"n": 0}

    class WatchedUnitOfWork:
        """The service's unit of work, whose product reads let the consumer in before our insert."""

        def __init__(self):
            self.uow = service.uow_factory()

        def __enter__(self):
            uow = self.uow.__enter__()
            read = uow.products.get

            def get(product_id):
                found = read(product_id)
                reads["n"] += 1
                if reads["n"] == 2 and found is None:  # our second look, just before our insert
                    know_product(service, product_id, merchant_id=MERCHANT)
                return found

            uow.products.get = get
            return uow

        def __exit__(self, *exc_info):
            return self.uow.__exit__(*exc_info)

    merchant.ensure_owner(WatchedUnitOfWork, asked, MERCHANT, "key", "prod_race3")
    with service.uow_factory() as uow:
        assert uow.products.get("prod_race3").merchant_id == MERCHANT
