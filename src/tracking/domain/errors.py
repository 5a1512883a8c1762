"""Errors of the domain: a broken rule, named by a stable code and the field it concerns."""


class RuleViolation(ValueError):
    """A value breaks one of the domain's rules; nothing was changed."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.code = code
        self.field = field
        self.message = message
