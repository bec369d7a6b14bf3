"""One module per page, each with its `router`; `ROUTERS` is the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from arrears.console.pages import audit, sign_in

ROUTERS: list[APIRouter] = [sign_in.router, audit.router]
