"""Two trees, never mixed.

AssertionError
  └── ConformanceFailure          the target broke a requirement            -> "failed"
Exception
  └── SuiteError                  the suite cannot judge                    -> "errored"
        ├── ConfigurationError    bad options, refused production host      -> exit 2
        ├── TargetUnavailable     the target did not answer (after retries) -> exit 3
        └── RateLimited           429 after every retry: that unit is unjudged -> "errored"
"""

from __future__ import annotations


class ConformanceFailure(AssertionError):
    """The target's answer breaks the requirement the check belongs to."""

    def __init__(self, message: str, *, requirement_id: str | None = None) -> None:
        super().__init__(message)
        self.requirement_id = requirement_id


class SuiteError(Exception):
    """The suite could not reach a verdict: a bug, the network, or the configuration."""


class ConfigurationError(SuiteError):
    """Invalid options or environment; nothing was sent."""


class TargetUnavailable(SuiteError):
    """The target did not answer within the timeout, after the bounded retries."""


class RateLimited(SuiteError):
    """The target kept answering 429 after the retries: the request was never judged, so neither is what sent it.

    A rate limit is the deployment's setting, not the contract's: a case or stage part that meets it errors (with
    advice to lower ``--concurrency`` or set ``--max-rps``), it never fails, and the rest of the run goes on.
    """


class PreconditionMissing(Exception):
    """A case needs something the run does not have (a second key, a metric): it is skipped."""
