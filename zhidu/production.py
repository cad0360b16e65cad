"""The production profile's moving parts: a process work pool, the deployments of prefect.yaml on it, workers.

The embedded profile (`make run`) serves every deployment from one runner; production deploys them to the work
pool ``zhidu`` so that any number of process workers, on any number of machines, can run them (docs/deploy.md).
"""

from __future__ import annotations

import os
import subprocess
import sys

from zhidu import ROOT

POOL = "zhidu"


def prefect_cmd(*args: str) -> list[str]:
    """The Prefect CLI of this interpreter."""
    return [sys.executable, "-m", "prefect", *args]


def deploy_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ``prefect deploy``: ZHIDU_ROOT names where the code lives on every worker machine."""
    out = dict(os.environ if env is None else env)
    out.setdefault("ZHIDU_ROOT", str(ROOT))
    return out


def ensure_pool(env: dict[str, str] | None = None) -> None:
    """Create the process work pool when it does not exist yet (an existing pool is left as it is)."""
    env = deploy_env(env)
    found = subprocess.run(prefect_cmd("work-pool", "inspect", POOL), env=env, capture_output=True, check=False)
    if found.returncode != 0:
        subprocess.run(prefect_cmd("work-pool", "create", POOL, "--type", "process"), env=env, check=True,
                       capture_output=True)


def deploy_all(env: dict[str, str] | None = None) -> None:
    """Create or update every deployment and schedule of prefect.yaml on the work pool."""
    ensure_pool(env)
    subprocess.run(prefect_cmd("--no-prompt", "deploy", "--all"), env=deploy_env(env), cwd=ROOT, check=True,
                   capture_output=True)


def worker_cmd(limit: int | None = None, name: str | None = None) -> list[str]:
    """The command of one process worker on the pool (``--limit``: flow runs at once on this worker)."""
    cmd = prefect_cmd("worker", "start", "--pool", POOL, "--type", "process")
    if limit:
        cmd += ["--limit", str(limit)]
    if name:
        cmd += ["--name", name]
    return cmd
