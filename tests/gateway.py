"""A stand-in contact gateway for the HTTP provider's tests: a real HTTP server on a free
port of this machine, doing what README "Contact providers" asks of a gateway.

It checks each request's signature with its own HMAC (the stdlib's, from the documented
scheme, not the provider's code) and refuses a bad or stale one with 401; it makes each
attempt once per `Idempotency-Key` and answers a repeated key with the first answer. A
test scripts how the *first* attempt it sees is answered (`first`): a status to answer
with, or `"slow"` (the attempt is made, but the answer comes after the caller gave up).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import free_port

#: How far a request's timestamp may be from the gateway's clock.
MAX_SKEW_SECONDS = 300
#: How long a "slow" answer takes: longer than the provider's timeout in the tests.
SLOW_SECONDS = 2.0

_ANSWERS: dict[str, dict[str, Any]] = {
    "sms": {"outcome": "delivered"},
    "call": {"outcome": "no_answer", "collector_ids": ["dialer-7"]},
    "letter": {"outcome": "delivered"},
    "visit": {"outcome": "not_found", "collector_ids": ["f-1", "f-2"]},
}


@dataclass
class Gateway:
    secret: bytes
    url: str = ""
    #: How the first attempt key seen is answered, one entry per request for it ("ok" or
    #: an HTTP status or "slow"); later requests for it, and every other key: "ok".
    first: list[int | str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every request, in order
    made: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> first answer
    refused: list[str] = field(default_factory=list)  # why requests were refused (401)

    def requests_for(self, key: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["key"] == key]

    def _signed(self, request: Request, body: bytes) -> bool:
        stamp = request.headers.get("x-arrears-timestamp", "")
        given = request.headers.get("x-arrears-signature", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_SKEW_SECONDS:
            return False
        mac = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(given, "sha256=" + mac.hexdigest())

    async def attempts(self, request: Request) -> Response:
        body = await request.body()
        if not self._signed(request, body):
            self.refused.append("signature")
            return JSONResponse({"error": "bad signature"}, status_code=401)
        key = request.headers.get("idempotency-key", "")
        document = json.loads(body)
        self.received.append({"key": key, "body": document, "headers": dict(request.headers)})
        first_key = self.received[0]["key"]
        tries = len(self.requests_for(key))
        script = self.first if key == first_key else []
        step = script[tries - 1] if tries <= len(script) else "ok"
        if isinstance(step, int):
            # A refusal may echo the request, as real gateways do: it must go no further.
            return JSONResponse({"error": "refused", "request": document}, status_code=step)
        if key not in self.made:  # the attempt is made once per key
            answer = dict(_ANSWERS[document["channel"]])
            answer["provider_ref"] = f"gw-{len(self.made) + 1}"
            if document["channel"] == "call":
                answer["recording_ref"] = f"rec-{len(self.made) + 1}"
            self.made[key] = answer
        if step == "slow":
            await asyncio.sleep(SLOW_SECONDS)  # the caller has given up by then
        return JSONResponse(self.made[key])


@contextlib.asynccontextmanager
async def running_gateway(secret: str) -> AsyncIterator[Gateway]:
    """A gateway listening on 127.0.0.1 until the block ends."""
    gateway = Gateway(secret.encode())
    app = Starlette(routes=[Route("/attempts", gateway.attempts, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + 10
    while not server.started:
        assert not task.done(), "the test gateway did not start"
        assert asyncio.get_running_loop().time() < deadline, "the test gateway did not start"
        await asyncio.sleep(0.02)
    gateway.url = f"http://127.0.0.1:{port}/attempts"
    try:
        yield gateway
    finally:
        server.should_exit = True
        await task
