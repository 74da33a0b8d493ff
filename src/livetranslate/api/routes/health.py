"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from livetranslate.api.deps import ServicesDep

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(description="`ready`, or `not_ready` (with status 503).", examples=["ready"])
    checks: dict[str, str] = Field(description="`model`, `translation`, `store`: the state of each.")
    reasons: list[str] | None = Field(None, description="With `not_ready`: what is wrong.")


@router.get("/health/live", response_model=Liveness, summary="The process answers")
async def live() -> dict:
    """For a liveness probe: answers as soon as the server listens, models loaded or not."""
    return {"status": "ok"}


@router.get(
    "/health/ready", response_model=Readiness, summary="Ready to transcribe",
    responses={503: {"model": Readiness, "description": "Not ready: the model is not running or the store "
                     "is unreachable; `reasons` says what."}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    """For a load balancer: 200 when the model runs and the store answers. Translation never
    blocks readiness (captions flow without it); `checks.translation` says what is installed."""
    checks: dict[str, str] = {}
    reasons: list[str] = []
    if services.engine.running:
        checks["model"] = f"loaded: {services.engine.asr.name}"
    else:
        checks["model"] = "not running"
        reasons.append("the ASR engine has no running worker")
    # translation degrades, it never blocks readiness: captions flow without it
    engines = services.translation.engines
    checks["translation"] = ", ".join(engines) if engines else "no engine installed (apertium missing?)"
    try:
        await asyncio.wait_for(asyncio.to_thread(services.db.ping), timeout=5)
        checks["store"] = "reachable"
    except Exception as e:  # any failure here means: not ready, and say why
        checks["store"] = "unreachable"
        reasons.append(f"store: {type(e).__name__}: {e}")
    if reasons:
        return JSONResponse({"status": "not_ready", "checks": checks, "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get(
    "/metrics", response_class=Response, summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
                     "description": "The text exposition format."}},
)
async def metrics() -> Response:
    """Sessions, connections, latencies, real-time factor, errors by code, translations by engine."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
