"""The appliance's one error root: every error a user can act on says what is wrong and how to fix it.

``ApplianceError(message, fix)`` carries both parts; ``str(error)`` is the one shape in which the CLI
(``appliance X: error: ...``), the panel (the error's ``detail``) and ``appliance selftest`` (a
check's line) all show them: the message, then ``; fix: `` and the fix. Code that needs the fix
reads ``error.fix``; nothing splits a message to find it.

The children (``StartupError``, ``SourceError``, ``AudioError``, ``PromptError``, ``GpioError``,
``ModelError``, ``StoreError``, ``CommandError``, ...) live beside the code that raises them, as
gpiozero's do in ``gpiozero/exc.py``.

>>> raise SourceError("no Pi camera 0 found", fix="check the ribbon cable")
"""

from __future__ import annotations


def with_fix(message: str, fix: str = "") -> str:
    """The one printed shape of a problem and its fix: ``message; fix: fix`` (the message alone
    when there is no fix)."""
    return f"{message}; fix: {fix}" if fix else message


class ApplianceError(Exception):
    """An error the user can fix: ``message`` says what is wrong, ``fix`` (may be empty) what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message, fix)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return with_fix(self.message, self.fix)
