"""A W&B logger that never blocks a run: no account or no network means offline mode."""

from __future__ import annotations

import logging
import netrc
import os
import socket
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only

log = logging.getLogger(__name__)

DEFAULT_WANDB_HOST = "https://api.wandb.ai"


def wandb_host() -> str:
    return urlparse(os.environ.get("WANDB_BASE_URL", DEFAULT_WANDB_HOST)).hostname or "api.wandb.ai"


def has_wandb_credentials(host: str) -> bool:
    """An API key in the environment or a `wandb login` entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def can_reach(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def offline_reason() -> str | None:
    """Why this run cannot log online, or None when it can."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in {"offline", "dryrun"}:
        return "WANDB_MODE=offline"
    host = wandb_host()
    if not has_wandb_credentials(host):
        return "no W&B account (run `wandb login` or set WANDB_API_KEY)"
    if not can_reach(host):
        return f"no network to {host}"
    return None


@rank_zero_only
def _announce_offline(reason: str, save_dir: str) -> None:
    log.warning(
        "W&B is offline (%s): the run is saved in %s/wandb/; upload it later with "
        "`wandb sync %s/wandb/offline-run-*`",
        reason,
        save_dir,
        save_dir,
    )


def wandb_logger(save_dir: str, offline: bool = False, **kwargs: Any) -> WandbLogger:
    """Build a `WandbLogger`, falling back to offline mode instead of failing or prompting."""
    reason = "logger.wandb.offline=true" if offline else offline_reason()
    if reason is not None:
        _announce_offline(reason, save_dir)
    return WandbLogger(save_dir=save_dir, offline=reason is not None, **kwargs)
