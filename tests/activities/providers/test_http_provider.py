"""The HTTP provider against a stand-in gateway on a real local server: what it sends
(signed, with the attempt key as idempotency key, the destination in the body), what it
makes of each answer (an outcome, try again later, refused for good), and that none of
it leaves personal data in an error or a log line."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError

from activities.contact import ProviderUnavailable
from activities.providers.http import HttpProvider
from tests.activities.providers.conftest import NAME, PHONE, SECRET, call_request
from tests.gateway import Gateway
from tests.support import free_port


def provider(gateway: Gateway, secret: str = SECRET, timeout: float = 5) -> HttpProvider:
    return HttpProvider("call", gateway.url, SecretStr(secret), timeout)


async def test_an_answered_attempt_is_the_gateways_outcome_sent_signed_with_the_key(
    gateway: Gateway,
) -> None:
    http = provider(gateway)
    result = await http.attempt(call_request("case-T1/7"))
    await http.aclose()
    assert gateway.refused == []  # the gateway checked the signature with its own HMAC
    [seen] = gateway.received
    assert seen["key"] == "case-T1/7"
    assert seen["body"]["to"] == {"phone": PHONE}
    assert (seen["body"]["channel"], seen["body"]["line"]) == ("call", "mobile")
    assert (result.outcome, result.provider_ref, result.recording_ref) == (
        "no_answer",
        "gw-1",
        "rec-1",
    )
    assert result.collector_ids == ("dialer-7",)


async def test_a_request_signed_with_another_secret_is_refused_by_the_gateway_and_not_retried(
    gateway: Gateway,
) -> None:
    http = provider(gateway, secret="not-the-secret-the-gateway-shares-with-us")
    with pytest.raises(ApplicationError) as refused:
        await http.attempt(call_request())
    await http.aclose()
    assert gateway.refused == ["signature"] and gateway.made == {}
    assert refused.value.non_retryable and refused.value.type == "ContactRefused"


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
async def test_a_gateway_that_is_down_or_busy_is_unavailable_so_the_attempt_is_retried(
    gateway: Gateway, status: int
) -> None:
    gateway.first = [status]
    http = provider(gateway)
    with pytest.raises(ProviderUnavailable, match=f"HTTP {status}"):
        await http.attempt(call_request())
    await http.aclose()


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_request_the_gateway_refuses_fails_for_good_without_its_answer_in_the_error(
    gateway: Gateway, status: int
) -> None:
    gateway.first = [status]  # the refusal echoes the request, phone number included
    http = provider(gateway)
    with pytest.raises(ApplicationError) as refused:
        await http.attempt(call_request())
    await http.aclose()
    assert refused.value.non_retryable and refused.value.type == "ContactRefused"
    assert f"HTTP {status}" in str(refused.value)
    assert PHONE not in str(refused.value) and PHONE[-8:] not in str(refused.value)


async def test_an_answer_slower_than_the_timeout_is_unavailable(gateway: Gateway) -> None:
    gateway.first = ["slow"]
    http = provider(gateway, timeout=0.3)
    with pytest.raises(ProviderUnavailable, match=r"no answer within 0\.3 s"):
        await http.attempt(call_request())
    await http.aclose()


async def test_a_gateway_nobody_listens_on_is_unavailable() -> None:
    http = HttpProvider("sms", f"http://127.0.0.1:{free_port()}/x", SecretStr(SECRET), 2)
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        await http.attempt(call_request())
    await http.aclose()


async def test_an_attempt_with_nothing_on_record_to_send_to_is_refused_without_a_request(
    gateway: Gateway,
) -> None:
    http = provider(gateway)
    with pytest.raises(ApplicationError) as refused:
        await http.attempt(call_request().model_copy(update={"destination": None}))
    await http.aclose()
    assert refused.value.type == "NoDestination" and refused.value.non_retryable
    assert gateway.received == []


async def test_no_log_line_holds_the_destination(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.first = [503, 400]
    http = provider(gateway)
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logged:
        for _ in range(2):
            with pytest.raises((ProviderUnavailable, ApplicationError)):
                await http.attempt(call_request())
    await http.aclose()
    assert len(logged) == 2  # one warning each: the outage and the refusal
    text = repr(logged) + "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    for personal in (PHONE, PHONE[-8:], NAME, SECRET):
        assert personal not in text
