"""One shape for every API error: {"detail": sentence, "errors": [{"field", "message"}]}.

An ``ApplianceError`` (``appliance.errors``: the store, a part, ...) is shown as the CLI and
``appliance selftest`` show it: ``detail`` is its message, then ``; fix: `` and its fix.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from appliance.errors import ApplianceError
from appliance.runtime.controller import ControllerError
from appliance.store import NotFound, StoreError
from appliance.web.models import ErrorBody, FieldError, plain_name, plain_reason


class ApiError(Exception):
    """An error with a status, a sentence and optional per-field reasons."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def invalid_field(field: str, message: str) -> ApiError:
    """A 422 naming one field."""
    return ApiError(422, f"{field}: {message}", [FieldError(field=field, message=message)])


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map request validation, HTTP, controller (409), store (404/409), any other appliance error (409)
    and ApiError exceptions to the one error shape."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            errors.append(FieldError(field=".".join(loc) or "(request)", message=plain_reason(e)))
        # In words: "Not accepted: runner id must be at least 1." (no "body.", no pydantic jargon)
        summary = "; ".join(f"{plain_name(e.get('loc', ()))} {plain_reason(e)}" for e in exc.errors()[:5])
        return _json(422, ErrorBody(detail=f"Not accepted: {summary or 'the request is not valid'}.", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, ErrorBody(detail=str(exc.detail)), headers=getattr(exc, "headers", None))

    @app.exception_handler(ControllerError)
    async def _controller(request: Request, exc: ControllerError) -> JSONResponse:
        return _json(409, ErrorBody(detail=exc.message))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _json(404, ErrorBody(detail=str(exc)))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return _json(409, ErrorBody(detail=str(exc)))

    @app.exception_handler(ApplianceError)
    async def _appliance(request: Request, exc: ApplianceError) -> JSONResponse:
        return _json(409, ErrorBody(detail=str(exc)))  # message; fix: fix (appliance.errors.with_fix)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, ErrorBody(detail=exc.detail, errors=exc.errors))
