"""Environment loading (.env.local, .env; harness_ls.config.load_env) and the one place
secrets get masked.

Everything that leaves the process (events, logs, exports, error messages) should pass
through `mask_secrets`, which hides the values of secret-looking environment variables,
values registered with `register_secret`, and anything shaped like a provider key.
"""

from __future__ import annotations

from harness_ls.config import load_env  # noqa: F401 - re-exported: the one loader of every host
from harness_ls.secrets import (  # noqa: F401 - re-exported: models.mask_secrets is public
    MASK,
    SecretMaskingFilter,
    getenv,
    install_log_masking,
    is_secret_name,
    mask_secrets,
    register_secret,
    seal_environ,
    sealed,
)
