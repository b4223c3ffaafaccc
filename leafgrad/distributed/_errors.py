"""The exceptions ``leafgrad.distributed`` raises (torch.distributed's classes)."""

from __future__ import annotations


class DistError(RuntimeError):
    """Base of the errors raised by ``leafgrad.distributed`` (torch's ``DistError``)."""


class DistBackendError(DistError):
    """A collective failed in the communication backend (timeout, failed peer, broken group)."""


class DistNetworkError(DistError):
    """A network-level failure (torch's class; leafgrad raises it for no failure of its own)."""


class DistStoreError(DistError):
    """A key-value store failure (torch's class; leafgrad has no stores)."""


class PeerFailure(DistBackendError):
    """Another rank failed, died or left: this rank cannot go on and says which rank it was."""

    def __init__(self, message: str, rank: int) -> None:
        super().__init__(message)
        self.failed_rank = rank
