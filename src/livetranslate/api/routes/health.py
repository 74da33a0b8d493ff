"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from livetranslate.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict:
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(services: ServicesDep) -> JSONResponse:
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


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
