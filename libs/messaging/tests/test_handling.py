"""Handler tables of handle(event, uow, deps) functions: declared once, deps bound in bootstrap."""
from tillkey.messaging.handling import bind_deps, declared


def remember(event, uow, deps):
    uow.append((event, deps))



def test_bound_handlers_get_the_deps_and_keep_their_inbox_names():
    table = {"order.created": [declared("remember_order", remember)]}
    bound = bind_deps(table, deps="the deps")
    (handler,) = bound["order.created"]
    seen: list = []
    handler("evt", seen)
    assert seen == [("evt", "the deps")]
    assert handler.name == "remember_order"
    # what releases before declared names recorded: the function's own module and name
    assert handler.recorded_as == ("remember_order", f"{__name__}.remember")
    assert table["order.created"][0].handle is remember    # the declared table is left as it was


def test_a_function_listed_for_several_event_types_gets_one_wrapper():
    """The batch path groups a batch's envelopes by handler function for its prefetch: one query for
    a batch that mixes order.created and payment.succeeded, not one per type."""
    table = {"order.created": [declared("take", remember)], "payment.succeeded": [declared("take", remember)]}
    bound = bind_deps(table, deps=None)
    assert bound["order.created"][0].handle is bound["payment.succeeded"][0].handle
