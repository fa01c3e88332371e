"""The one error type of the local B2 server: B2's ``{"status", "code", "message"}`` body."""

from __future__ import annotations


class B2Error(Exception):
    """An answer the local server gives as a B2 JSON error body."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        """Return the JSON body B2 sends for this error."""
        return {"status": self.status, "code": self.code, "message": self.message}


def bad_request(message: str, code: str = "bad_request") -> B2Error:
    """Return a 400 error (``bad_request`` unless another code is given)."""
    return B2Error(400, code, message)


def not_found(message: str, code: str = "not_found") -> B2Error:
    """Return a 404 error (``not_found`` unless another code is given)."""
    return B2Error(404, code, message)


def unauthorized(message: str, code: str = "unauthorized") -> B2Error:
    """Return a 401 error (``unauthorized`` unless another code is given)."""
    return B2Error(401, code, message)


def not_implemented(feature: str) -> B2Error:
    """Return the 501 ``not_implemented`` for a B2 feature this server refuses, naming it.

    b2sdk retries every 5xx answer and backs off for seconds between tries; ``Retry-After: 0``
    makes it give up without waiting, since the answer will not change.
    """
    message = f"The local B2 server does not implement {feature}"
    return B2Error(501, "not_implemented", message, headers={"Retry-After": "0"})
