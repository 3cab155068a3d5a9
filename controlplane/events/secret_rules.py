"""Secrets recognised by their shape wherever they stand in a text: the token formats of
detect-secrets (Yelp's maintained rule set: AWS, GitHub, GitLab, Slack, Stripe, JWT, private
keys, ...), plus the bearer credentials of an Authorization header. The redactor
(events/redact.py) masks what these find; its own rules go by key names and URLs.

detect-secrets' keyword detectors are left out (the redactor's key rules do that work), and
so are its entropy and IP rules, which flag ordinary ids and addresses.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detect_secrets.plugins.base import RegexBasedDetector

# "Authorization: Bearer X" / "Basic X": the credential after the scheme word.
_BEARER = re.compile(r"(?i:\b(?:bearer|basic|token|digest)\s+)(?=[A-Za-z0-9._~+/-]{8,})")
_KEYWORD_FORM = re.compile(r"\(\?:key\|pwd")  # detect-secrets' key=value rules: ours cover them
# A rule runs only when the text holds its hint (most texts hold none): one search per rule
# is cheap only while most rules are skipped. Hints are matched against the lower-cased text,
# except those in _CASED_HINTS (a two-letter prefix is rare only with its case).
_HINTS: dict[str, str] = {
    "xox": "xox", "hooks": "hooks.slack", "glagent": "glagent-", "T3BlbkFJ": "t3blbkfj",
    "k_live_": "k_live_", "-us[": "-us", "authToken": "_authtoken", "AccountKey": "accountkey=",
    "sq0csp": "sq0csp-", "pypi-": "pypi-", "SG\\.": "sg.", "PRIVATE": "private",
    "PuTTY": "putty", "eyJ": "eyj", "(ghp|": "gh", "(glpat|": "gl", "glcbt": "glcbt-",
    "glimt": "glimt-", "glptt": "glptt-", "gloas": "gloas-", "GR1348941": "gr1348941",
    ":[0-9A-Za-z_-]{35}": ":", "[MNO]": "discord", "AC[a-z0-9]": "AC", "SK[a-z0-9]": "SK",
    "A3T": "A",
}  # fmt: skip
_CASED_HINTS = {"AC", "SK", "A"}
# Discord's token (id.timestamp.hmac) has no literal part: its six-character middle between
# two dots is the hint, found by a search that jumps from dot to dot.
_DISCORD_HINT = re.compile(r"\.[A-Za-z0-9_-]{6}\.")
_BEARER_WORDS = re.compile("bearer|basic|token|digest")


def _detectors() -> tuple[type[RegexBasedDetector], ...]:
    # imported on first use: detect-secrets pulls in requests, a second at start-up on a
    # busy machine, for every command that only imports the event package
    from detect_secrets.plugins import (
        aws,
        azure_storage_key,
        discord,
        github_token,
        gitlab_token,
        jwt,
        mailchimp,
        npm,
        openai,
        private_key,
        pypi_token,
        sendgrid,
        slack,
        square_oauth,
        stripe,
        telegram_token,
        twilio,
    )

    return (
        aws.AWSKeyDetector,
        azure_storage_key.AzureStorageKeyDetector,
        discord.DiscordBotTokenDetector,
        github_token.GitHubTokenDetector,
        gitlab_token.GitLabTokenDetector,
        jwt.JwtTokenDetector,
        mailchimp.MailchimpDetector,
        npm.NpmDetector,
        openai.OpenAIDetector,
        private_key.PrivateKeyDetector,
        pypi_token.PypiTokenDetector,
        sendgrid.SendGridDetector,
        slack.SlackDetector,
        square_oauth.SquareOAuthDetector,
        stripe.StripeDetector,
        telegram_token.TelegramBotTokenDetector,
        twilio.TwilioKeyDetector,
    )


@cache
def rules() -> list[tuple[str, bool, re.Pattern[str]]]:
    """(hint, whether the hint is looked for in the lower-cased text, rule)."""
    rules = []
    for detector in _detectors():
        for rule in detector().denylist:
            if _KEYWORD_FORM.search(rule.pattern):
                continue
            hint = next(h for key, h in _HINTS.items() if key in rule.pattern)
            rules.append((hint, hint not in _CASED_HINTS, rule))
    return rules


_TOKEN_TAIL = re.compile(r"[A-Za-z0-9._~+/=-]*")
_KEY_BLOCK_END = re.compile(r"-----END [A-Z0-9 ]*-----|\Z")
MIN_SECRET_LENGTH = 16  # no rule matches a shorter text


def _spans(text: str) -> list[tuple[int, int]]:
    lower = text.lower()
    spans = []
    if _BEARER_WORDS.search(lower):
        for match in _BEARER.finditer(text):  # keep the scheme word, mask the credential
            end = _TOKEN_TAIL.match(text, match.end()).end()  # type: ignore[union-attr]
            spans.append((match.end(), end))
    for hint, in_lower, rule in rules():
        if hint == "discord":
            if not _DISCORD_HINT.search(text):
                continue
        elif hint not in (lower if in_lower else text):
            continue
        for match in rule.finditer(text):
            start, end = match.span()
            end = _TOKEN_TAIL.match(text, end).end()  # type: ignore[union-attr]
            if "PRIVATE KEY" in match.group() or "PuTTY" in match.group():
                end = _KEY_BLOCK_END.search(text, end).end()  # type: ignore[union-attr]
            if end > start:
                spans.append((start, end))
    return sorted(spans)


def mask_secrets(text: str, mask: str) -> tuple[str, bool]:
    """`text` with every secret the rules find replaced by `mask`; True when any was."""
    if len(text) < MIN_SECRET_LENGTH:
        return text, False
    spans = _spans(text)
    if not spans:
        return text, False
    out: list[str] = []
    done = 0
    for start, end in spans:
        if end <= done:
            continue
        out.append(text[done : max(start, done)])
        out.append(mask)
        done = end
    out.append(text[done:])
    return "".join(out), True
