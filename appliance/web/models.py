"""Request and response bodies of the panel's API that are the panel's own (the live snapshot,
camera snapshot, health and stored records come from the runtime and the store)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appliance.web.pin import MAX_PIN_LENGTH


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description="Dotted name of the field (e.g. camera.width or body.pin)")
    message: str = Field(description="Why the value was refused")


def _number(value: Any) -> str:
    """1.0 -> "1", 0.5 -> "0.5": limits as a person writes them."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain_reason(error: Mapping[str, Any]) -> str:
    """Why a value was refused, in words for a clinician: a pydantic error without its jargon
    ("Input should be a valid number, unable to parse string as a number" -> "must be a number")."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is needed"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return "must be a number"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be yes or no"
    bounds = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "more than"),
              "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}
    if kind in bounds:
        key, words = bounds[kind]
        return f"must be {words} {_number(ctx.get(key))}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must have at least {n} characters"
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return "must not be empty" if ctx.get("pattern") == r"\S" else "has characters that are not allowed"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in ("json_invalid", "json_type"):
        return "is not valid JSON"
    if kind in ("dict_type", "model_type", "model_attributes_type", "list_type"):
        return "has the wrong form"
    if kind in ("too_long", "too_short"):
        return "has too many entries" if kind == "too_long" else "has too few entries"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return str(error.get("msg", "not accepted")).removeprefix("Input should be ").removeprefix("Value error, ")


def plain_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """The field a location names, in words: ("body", "runner_id") -> "runner id"."""
    words = [str(p) for p in loc if not isinstance(p, int) and p not in ("body", "query", "path")]
    return words[-1].replace("_", " ") if words else "the request"


def text_problem(text: str) -> str | None:
    """Why a name or a spoken text cannot be stored, or None: line breaks, NUL and invisible
    formatting characters (U+202E would show a runner's name reversed) are refused."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        return "must not contain line breaks, tabs or invisible control characters"
    return None


class ErrorBody(BaseModel):
    """Every error the API returns: one readable sentence, plus per-field reasons for 422."""

    detail: str
    errors: list[FieldError] = Field(default_factory=list)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Request body cannot be decoded",
        401: "Not logged in",
        403: "Missing or wrong CSRF token; or, when changing the PIN, the current PIN is wrong (still logged in)",
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
    new_pin_repeat: Pin = Field(description="The new PIN typed a second time: a typo must not lock the clinician out")


class AuthStatus(BaseModel):
    pin_set: bool = Field(description="False until `appliance set-pin` or first-visit setup")
    logged_in: bool
    public_live_view: bool = Field(description="Whether the live view is readable without login")
    min_pin_length: int
    csrf_token: str | None = Field(None, description="Echo in the X-CSRF-Token header of state-changing requests")
    setup_code_where: str | None = Field(
        None, description="While no PIN is set: where the one-time setup code for the first visit is to be found")


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
    group: str = Field("", description="The heading the form shows the field under")
    everyday: bool = Field(False, description="True for what a clinician changes between patients (shown first)")
    in_force: SettingValue = Field(
        None, description="The value the running appliance uses when a command-line option overrode the saved "
        "`value` at start (see `overridden_by`); else the same as `value`")
    overridden_by: str | None = Field(
        None, description="The command-line option that set this field at start, e.g. \"--port 8123\"; "
        "the saved `value` applies when the appliance is started without it")


class SettingsView(BaseModel):
    fields: list[SettingField]
    settings_file: str | None = Field(None, description="The file the panel saves the settings to")
    settings_file_option: str | None = Field(
        None, description="The command-line option that named the settings file at start (--config PATH)")


class SettingsUpdate(Strict):
    changes: dict[Annotated[str, Field(max_length=80)], SettingValue] = Field(
        max_length=100, description="Dotted setting name -> new value, e.g. {\"audio.volume\": 0.6}"
    )


class OkResponse(BaseModel):
    ok: bool = True
    message: str = ""
