"""Request bodies the service cannot act on are refused by their schema, with the path of the field
at fault, before any handler reads the online store or writes to it. Bodies are parsed from JSON
text, as BentoML parses a request."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from serving.schemas import AudienceRequest, CustomerIdsRequest, EventsRequest


def refusal(schema: type[BaseModel], body: str) -> tuple[str, tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as refused:
        schema.model_validate_json(body)
    [error] = refused.value.errors()
    return error["type"], error["loc"], error["msg"]


@pytest.mark.parametrize(
    ("ids", "kind"),
    [
        ("9223372036854775808", "less_than_equal"),  # 2**63: past int64, a 500 in the online read
        ("-9223372036854775809", "greater_than_equal"),
        ("true", "int_type"),  # not customer 1
        ("1.0", "int_type"),
        ('"7"', "int_type"),
    ],
)
def test_customer_ids_are_int64_integers(ids: str, kind: str) -> None:
    assert refusal(CustomerIdsRequest, f'{{"customer_ids": [3, {ids}]}}')[:2] == (kind, ("customer_ids", 1))


def test_customer_ids_in_int64_are_taken_negative_ones_included() -> None:
    # Unknown ids, negative ones too, get a cold-start answer rather than an error.
    body = '{"customer_ids": [-5, 0, 1000000000, 9223372036854775807, -9223372036854775808]}'
    assert CustomerIdsRequest.model_validate_json(body).customer_ids == [-5, 0, 10**9, 2**63 - 1, -(2**63)]


def test_customer_ids_body_has_no_other_fields() -> None:
    assert refusal(CustomerIdsRequest, '{"customer_ids": [1], "limit": 3}')[:2] == (
        "extra_forbidden",
        ("limit",),
    )


def event(customer_id: str = "7", when: str = "2031-01-02T03:04:05Z") -> str:
    return f'{{"customer_id": {customer_id}, "event_type": "visit", "event_timestamp": "{when}"}}'


@pytest.mark.parametrize(
    ("body", "loc", "fragment"),
    [
        (event(customer_id="9223372036854775808"), ("events", 1, "customer_id"), "9223372036854775807"),
        (event(customer_id="true"), ("events", 1, "customer_id"), "valid integer"),
        (event(when="2999-01-01T00:00:00Z"), ("events", 1, "event_timestamp"), "less than 2262-01-01"),
        (event(when="0001-01-01T00:00:00Z"), ("events", 1, "event_timestamp"), "1970-01-01"),
        (event(when="1970-01-01T00:59:59+01:00"), ("events", 1, "event_timestamp"), "1970-01-01"),
    ],
)
def test_events_outside_what_the_online_store_holds_are_refused(
    body: str, loc: tuple[str | int, ...], fragment: str
) -> None:
    _, at, message = refusal(EventsRequest, f'{{"events": [{event()}, {body}]}}')
    assert at == loc and fragment in message


def test_events_within_bounds_are_taken() -> None:
    body = f'{{"events": [{event(when="1970-01-01T00:00:00Z")}, {event(when="2261-12-31T23:59:59Z")}]}}'
    assert len(EventsRequest.model_validate_json(body).events) == 2


def test_events_body_has_no_other_fields() -> None:
    assert refusal(EventsRequest, f'{{"events": [{event()}], "source": "web"}}')[:2] == (
        "extra_forbidden",
        ("source",),
    )


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ('"budget": 1e999', "budget"),  # JSON parsers read it as infinity
        ('"budget": -1e999', "budget"),
        ('"budget": NaN', "budget"),
        ('"size": 10, "holdout_share": NaN', "holdout_share"),
    ],
)
def test_audience_numbers_are_finite(fields: str, loc: str) -> None:
    kind, at, _ = refusal(AudienceRequest, f'{{"action": "welcome_coupon", {fields}}}')
    assert kind == "finite_number" and at == (loc,)
