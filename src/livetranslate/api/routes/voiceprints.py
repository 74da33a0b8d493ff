"""Voiceprints over REST: enroll a voice under a name, add samples, verify a sample against a
name, list and delete. Only embeddings are kept, never the audio. Each is its tenant's: names
are unique within a tenant, and only its sessions are named after it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel

from livetranslate.api.deps import CallerDep, ScopeDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.audio import decode_file
from livetranslate.errors import Conflict, InvalidInput, NotFound, TooLarge, UnsupportedMedia
from livetranslate.session import Scope
from livetranslate.speakers import Voiceprint
from livetranslate.store import crud
from livetranslate.store.models import VoiceprintRow, as_utc

router = APIRouter(prefix="/v1/voiceprints", tags=["voiceprints"])

_AUDIO = "Speech of this person alone, in any format PyAV decodes; at least voiceprint_min_speech_s of speech."


class VoiceprintOut(BaseModel):
    id: str
    name: str
    seconds: float
    samples: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: VoiceprintRow) -> "VoiceprintOut":
        return cls(id=row.id, name=row.name, seconds=round(row.seconds, 2), samples=row.samples,
                   created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at))


class Verification(BaseModel):
    name: str
    voiceprint_id: str
    match: bool
    score: float
    threshold: float
    speech_seconds: float


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("name must be 1 to 200 characters")
    return name


async def _embed(services, file: UploadFile, scope: Scope) -> tuple[np.ndarray, float]:
    await services.quotas.check_upload(tenant=scope.owner, size=file.size)
    audio = await asyncio.to_thread(decode_file, file.file)
    return await asyncio.to_thread(services.voiceprints.embed_speech, audio)


def _keep(services, row: VoiceprintRow) -> None:
    services.voiceprints.put(Voiceprint.of(row))


_SAMPLE_ERRORS = (InvalidInput, TooLarge, UnsupportedMedia)  # what _embed raises


@router.post("", status_code=201, response_model=VoiceprintOut, summary="Enroll a voice",
             responses=errors_doc(*_SAMPLE_ERRORS, Conflict))
async def enroll(
    services: ServicesDep,
    scope: ScopeDep,
    who: CallerDep,
    name: Annotated[str, Form(min_length=1, max_length=200, description="The person's name, as transcripts show it.")],
    file: Annotated[UploadFile, File(description=_AUDIO)],
) -> VoiceprintOut:
    """Sessions then name this voice when they hear it. Only the embedding is kept, never the
    audio. ``400`` for too little speech, ``409`` for a name already enrolled (add samples to it)."""
    name = _check_name(name)
    embedding, seconds = await _embed(services, file, scope)
    row = await asyncio.to_thread(
        services.db.call, crud.create_voiceprint, id=uuid.uuid4().hex, tenant=scope.owner, name=name,
        embedding=[round(float(x), 6) for x in embedding], seconds=seconds,
    )
    _keep(services, row)
    await services.audit.record(who, "voiceprint.enroll", row.id, name=name)
    return VoiceprintOut.of(row)


@router.post("/verify", response_model=Verification, summary="Check a sample against an enrolled voice",
             responses=errors_doc(*_SAMPLE_ERRORS, NotFound))
async def verify(
    services: ServicesDep,
    scope: ScopeDep,
    name: Annotated[str, Form(min_length=1, max_length=200, description="The enrolled name to check against.")],
    file: Annotated[UploadFile, File(description=_AUDIO)],
) -> Verification:
    """Is this sample the voice enrolled as ``name``? ``score`` is the cosine similarity of the
    two voices; ``match`` is ``score >= threshold``."""
    row = await asyncio.to_thread(services.db.call, crud.get_voiceprint, name=_check_name(name), tenant=scope.owner)
    embedding, seconds = await _embed(services, file, scope)
    score = float(np.asarray(row.embedding, np.float32) @ embedding)
    threshold = services.voiceprints.threshold
    return Verification(name=row.name, voiceprint_id=row.id, match=score >= threshold, score=round(score, 3),
                        threshold=threshold, speech_seconds=round(seconds, 2))


@router.get("", response_model=list[VoiceprintOut], summary="The enrolled voices")
async def list_voiceprints(services: ServicesDep, scope: ScopeDep) -> list[VoiceprintOut]:
    """The caller's tenant's: their names and how much speech each was enrolled with (never the audio)."""
    rows = await asyncio.to_thread(services.db.call, crud.list_voiceprints, tenant=scope.owner)
    return [VoiceprintOut.of(r) for r in rows]


@router.get("/{voiceprint_id}", response_model=VoiceprintOut, summary="One enrolled voice",
            responses=errors_doc(NotFound))
async def get_voiceprint(voiceprint_id: str, services: ServicesDep) -> VoiceprintOut:
    """Its name, how much speech and how many samples it was enrolled with."""
    return VoiceprintOut.of(await asyncio.to_thread(services.db.call, crud.get_voiceprint, voiceprint_id=voiceprint_id))


@router.post("/{voiceprint_id}/samples", response_model=VoiceprintOut, summary="Add speech to an enrolled voice",
             responses=errors_doc(*_SAMPLE_ERRORS, NotFound))
async def add_sample(
    voiceprint_id: str, services: ServicesDep, scope: ScopeDep, who: CallerDep,
    file: Annotated[UploadFile, File(description=_AUDIO)],
) -> VoiceprintOut:
    """More speech of the same person: the voiceprint becomes the mean of every sample."""
    await asyncio.to_thread(services.db.call, crud.get_voiceprint, voiceprint_id=voiceprint_id)  # 404 before decoding
    embedding, seconds = await _embed(services, file, scope)
    row = await asyncio.to_thread(
        services.db.call, crud.add_voiceprint_sample, voiceprint_id=voiceprint_id,
        embedding=[float(x) for x in embedding], seconds=seconds,
    )
    _keep(services, row)
    await services.audit.record(who, "voiceprint.sample", voiceprint_id, seconds=round(seconds, 1))
    return VoiceprintOut.of(row)


@router.delete("/{voiceprint_id}", status_code=204, summary="Forget a voice", responses=errors_doc(NotFound))
async def delete_voiceprint(voiceprint_id: str, services: ServicesDep, who: CallerDep) -> Response:
    """Sessions no longer recognise this voice."""
    await asyncio.to_thread(services.db.call, crud.delete_voiceprint, voiceprint_id=voiceprint_id)
    services.voiceprints.remove(voiceprint_id)
    await services.audit.record(who, "voiceprint.delete", voiceprint_id)
    return Response(status_code=204)
