"""Helpers shared by the tests (imported as ``from helpers import ...``; fixtures stay in conftest)."""


def one_line(exc_info) -> str:
    """The message of a raised book error, asserting it is one line."""
    msg = str(exc_info.value)
    assert msg and "\n" not in msg, f"not a one-line error: {msg!r}"
    return msg
