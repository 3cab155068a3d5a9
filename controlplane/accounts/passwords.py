"""Which passwords the console accepts: long enough, not one character repeated, not a common
or easily guessed one (zxcvbn: Dropbox's estimator with its lists of common passwords, words
and keyboard patterns), and no longer than the login form takes."""

from __future__ import annotations

from zxcvbn import zxcvbn

from controlplane.errors import ControlplaneError

MIN_LENGTH = 8
# The login form reads at most this many characters: a longer password could be set but
# never typed in, so it is refused when set (login.html and users.html say 256 too).
MAX_LENGTH = 256
MIN_SCORE = 2  # zxcvbn's 0-4; below 2 is "guessable within about a million tries"
_SCORED_CHARS = 72  # zxcvbn refuses longer input; the first 72 decide the score anyway


class WeakPassword(ControlplaneError):
    """A password the policy refuses; the message says why."""


def check_password(password: str, username: str = "") -> None:
    """Raise WeakPassword, naming the reason, unless `password` may be set."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters (the login form's)")
    if len(set(password)) == 1:
        raise WeakPassword("a password must not be one character repeated")
    inputs = [username, "controlplane", "celery"] if username else ["controlplane", "celery"]
    verdict = zxcvbn(password[:_SCORED_CHARS], user_inputs=inputs)
    if verdict["score"] < MIN_SCORE:
        reason = verdict["feedback"]["warning"] or "it is too easy to guess"
        raise WeakPassword(f"password refused: {reason.rstrip('.')}; choose a longer passphrase")
