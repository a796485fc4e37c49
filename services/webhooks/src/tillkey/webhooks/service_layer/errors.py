"""What a use case can refuse; the HTTP edge maps each to its problem+json status."""


class NotFound(Exception):
    """Not there, or not the caller's (both answer 404: existence is not revealed)."""


class Conflict(Exception):
    """The object is in a state that does not allow the action (409)."""


class Invalid(Exception):
    """A field is unacceptable for a reason only the service can judge (422)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
