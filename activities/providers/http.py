"""A contact gateway over HTTP: one signed JSON request per attempt, the outcome in the
response.

The request (README "Contact providers" documents it for whoever builds the gateway):
`POST <url>` with a JSON body naming the attempt and its destination, and the headers
- `Idempotency-Key`: the attempt key (`case-…/<seq>`). A retried activity sends the same
  key and the same body; the gateway makes the attempt once and answers a repeat with
  the first answer, so Temporal's retries never text or dial a debtor twice.
- `X-Arrears-Timestamp` (Unix seconds) and `X-Arrears-Signature: sha256=<hex>`, the
  HMAC-SHA256 of `<timestamp>.<body>` under the channel's shared secret: the gateway
  knows the request is ours and recent (it refuses old timestamps, so a captured request
  cannot be replayed later).

The answer: 200 with `{"outcome": ..., "provider_ref"?, "collector_ids"?,
"recording_ref"?, "attempted_at"?}`. Everything else is classified so that Temporal does
the right thing: a gateway that is down, slow, overloaded or not done yet (5xx, 408,
429, a timeout, a refused connection, a 2xx without an outcome) raises
`ProviderUnavailable` and the activity is retried with the same key; a request the
gateway refuses as such (any other 4xx, a redirect) fails the activity for good
(`ContactRefused`, not retryable): sending it again would be refused again.

No error message, log line or exception carries the body, the response text or the
destination: only the channel, the attempt key and an HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes, hmac
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from temporalio.exceptions import ApplicationError

from activities.contact import ContactResult, ProviderRequest, ProviderUnavailable
from arrears.logs import get_logger
from domain.events import Channel, Outcome

SIGNATURE_HEADER: Final = "X-Arrears-Signature"
TIMESTAMP_HEADER: Final = "X-Arrears-Timestamp"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
#: The failure type of a request the gateway refused (not retried).
REFUSED: Final = "ContactRefused"
#: 4xx statuses that mean "try again later", not "this request is wrong".
_RETRY_LATER: Final = frozenset({408, 425, 429})

log = get_logger("arrears.contact")


def signature(secret: SecretStr, timestamp: int, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of `<timestamp>.<body>`, in hex."""
    mac = hmac.HMAC(secret.get_secret_value().encode(), hashes.SHA256())
    mac.update(f"{timestamp}.".encode() + body)
    return "sha256=" + mac.finalize().hex()


def request_body(request: ProviderRequest) -> bytes:
    """The JSON the gateway receives: the attempt, and where it goes. The same request
    gives the same bytes (sorted keys), so a retry repeats the first body exactly."""
    document: dict[str, Any] = {
        "attempt_key": request.attempt_key,
        "channel": request.channel,
        "target": request.target,
        "line": request.line,
        "contact_index": request.contact_index,
        "planned_at": request.planned_at.isoformat(),
        "to": request.destination.payload() if request.destination else None,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class GatewayReply(BaseModel):
    """The gateway's answer (unknown fields ignored, so it may say more)."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    outcome: Outcome
    provider_ref: str | None = None
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    attempted_at: datetime | None = None


class HttpProvider:
    """A `ContactProvider` for one channel's gateway at `url`."""

    def __init__(
        self,
        channel: Channel,
        url: str,
        secret: SecretStr,
        timeout: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._channel = channel
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._clock = clock
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, in the worker's event loop; kept for its pooled connections.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def attempt(self, request: ProviderRequest) -> ContactResult:
        if request.destination is None:
            raise ApplicationError(
                f"{self._channel} attempt {request.attempt_key}: no {request.target} on record"
                " for it (no placement record, or its personal data was purged)",
                type="NoDestination",
                non_retryable=True,
            )
        body = request_body(request)
        now = self._clock()
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: request.attempt_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
        }
        try:
            response = await self._http().post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise self._unavailable(request, f"no answer within {self._timeout:g} s") from None
        except httpx.TransportError as err:
            raise self._unavailable(request, f"unreachable ({type(err).__name__})") from None
        return self._result(request, response, now)

    def _result(
        self, request: ProviderRequest, response: httpx.Response, sent_at: datetime
    ) -> ContactResult:
        status = response.status_code
        if status >= 500 or status in _RETRY_LATER:
            raise self._unavailable(request, f"HTTP {status}")
        if status >= 300:
            self._warn("contact gateway refused the attempt", request, status=status)
            raise ApplicationError(
                f"the {self._channel} gateway refused attempt {request.attempt_key}: HTTP {status}",
                type=REFUSED,
                non_retryable=True,
            )
        try:
            reply = GatewayReply.model_validate_json(response.content)
        except ValidationError:
            # 202 "accepted, no outcome yet" too: asked again with the same key, the
            # gateway answers with the outcome once it has one.
            raise self._unavailable(request, f"HTTP {status} without an outcome") from None
        return ContactResult(
            outcome=reply.outcome,
            attempted_at=reply.attempted_at or sent_at,
            collector_ids=reply.collector_ids,
            recording_ref=reply.recording_ref,
            provider_ref=reply.provider_ref,
        )

    def _warn(self, event: str, request: ProviderRequest, **why: object) -> None:
        """A warning naming the attempt, never its destination or the gateway's answer."""
        log.warning(
            event,
            channel=self._channel,
            case_id=request.case_id,
            attempt_key=request.attempt_key,
            **why,
        )

    def _unavailable(self, request: ProviderRequest, why: str) -> ProviderUnavailable:
        self._warn("contact gateway unavailable, the attempt will be retried", request, why=why)
        return ProviderUnavailable(f"the {self._channel} gateway is unavailable: {why}")
