"""Request and response bodies of the panel's API that are the panel's own (the live snapshot,
camera snapshot, health and stored records come from the runtime and the store)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appliance.web.pin import MAX_PIN_LENGTH


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description="Dotted name of the field (e.g. camera.width or body.pin)")
    message: str = Field(description="Why the value was refused")


class ErrorBody(BaseModel):
    """Every error the API returns: one readable sentence, plus per-field reasons for 422."""

    detail: str
    errors: list[FieldError] = Field(default_factory=list)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Request body cannot be decoded",
        401: "Not logged in",
        403: "Missing or wrong CSRF token",
        404: "No such record",
        409: "Refused in the appliance's current state",
        413: "Request body too large",
        422: "Invalid input; `errors` names each field and the reason",
        429: "Too many failed logins; wait Retry-After seconds",
    }.items()
}


# ---- auth -------------------------------------------------------------------------------------

Pin = Annotated[str, Field(min_length=1, max_length=MAX_PIN_LENGTH, description="The clinician's PIN/passphrase")]


class LoginRequest(Strict):
    pin: Pin


class SetupRequest(Strict):
    setup_code: str = Field(
        min_length=1, max_length=64, description="One-time code printed in the appliance's log while no PIN is set"
    )
    pin: Pin


class ChangePinRequest(Strict):
    current_pin: Pin
    new_pin: Pin


class AuthStatus(BaseModel):
    pin_set: bool = Field(description="False until `appliance set-pin` or first-visit setup")
    logged_in: bool
    public_live_view: bool = Field(description="Whether the live view is readable without login")
    min_pin_length: int
    csrf_token: str | None = Field(None, description="Echo in the X-CSRF-Token header of state-changing requests")


# ---- settings ---------------------------------------------------------------------------------

SettingValue = bool | int | float | str | dict[str, Any] | list[Any] | None


class SettingField(BaseModel):
    """One setting as the form shows it, built from the config model's JSON schema."""

    path: str = Field(description="Dotted name, e.g. camera.width")
    section: str
    name: str
    title: str
    kind: Literal["boolean", "integer", "number", "string", "choice", "object"] = Field(
        description="How to edit it; 'object' values are JSON objects or lists"
    )
    nullable: bool
    choices: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    unit: str | None = None
    description: str | None = None
    value: SettingValue
    default: SettingValue = None
    editable: bool = True
    note: str | None = Field(None, description="Why a field is read-only here, or what to check before changing it")
    warning: bool = Field(False, description="True for fields that can damage hardware or lock you out when wrong")
    restart: bool = Field(False, description="True when a change takes effect only after the appliance restarts")


class SettingsView(BaseModel):
    fields: list[SettingField]


class SettingsUpdate(Strict):
    changes: dict[Annotated[str, Field(max_length=80)], SettingValue] = Field(
        max_length=100, description="Dotted setting name -> new value, e.g. {\"audio.volume\": 0.6}"
    )


class OkResponse(BaseModel):
    ok: bool = True
    message: str = ""
