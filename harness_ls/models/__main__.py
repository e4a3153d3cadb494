"""`python -m harness_ls.models`: which model each purpose gets, and why; `--ping` tries it.

Reads .env.local/.env from the workspace like the hosts do. Never prints key values.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from harness_ls.errors import HarnessError

from . import Message, describe, load_env, mask_secrets, resolve


async def _ping(model_name: str | None, workspace: Path) -> str:
    model = resolve("chat", explicit=model_name, workspace=workspace)
    t0 = time.perf_counter()
    done = await model.complete([Message(role="user", content="Reply with the single word OK.")])
    ms = (time.perf_counter() - t0) * 1000
    usage = f", {done.usage.input_tokens} in / {done.usage.output_tokens} out" if done.usage else ""
    return f"{model.name}: {done.text.strip()[:60]!r} in {ms:.0f} ms{usage}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness_ls.models", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--workspace", type=Path, default=Path.cwd())
    parser.add_argument("--model", help="as --model on the hosts, e.g. openai:gpt-4.1")
    parser.add_argument(
        "--ping", action="store_true", help="send one tiny request to the chat model"
    )
    args = parser.parse_args(argv)
    load_env(args.workspace)
    try:
        info = describe(args.workspace)
        for p in info["providers"]:
            state = "configured" if p["configured"] else f"not configured ({p['missing']})"
            print(f"provider {p['name']:<10} {p['base_url']:<32} {state}")
        for src in info["sources"]:
            print(f"models.toml {src}")
        for purpose in ("run", "session", "spec", "chat"):
            try:
                m = resolve(purpose, explicit=args.model, workspace=args.workspace)  # type: ignore[arg-type]
                print(f"{purpose:<8} -> {m.name:<32} {m.reason}")
            except HarnessError as exc:
                print(f"{purpose:<8} -> error: {exc.one_line()}")
        if args.ping:
            print(asyncio.run(_ping(args.model, args.workspace)))
    except HarnessError as exc:
        print(f"error: {mask_secrets(exc.one_line())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
