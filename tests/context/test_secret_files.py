"""Secret files never reach the model through the map nor the cluster through a Ray bundle: both
kept a list of their own, shorter than the one every other layer uses (tools/secretfiles.py)."""

from __future__ import annotations

from harness_ls.context import build_context

SECRETS = {
    ".envrc": "export AWS_SECRET_ACCESS_KEY=envrcVALUE1\n",
    "credentials": "[default]\naws_secret_access_key = credVALUE2\n",
    ".git-credentials": "https://u:gitcredVALUE3@example.com\n",
    ".pgpass": "db:5432:*:u:pgVALUE4\n",
    "config/prod.env": "API_KEY=prodenvVALUE5\n",
    "secrets.yaml": "api_key: yamlVALUE6\n",
}


def test_no_secret_file_reaches_the_map_or_its_excerpts(repo, data_dir) -> None:
    """The map kept a secret-file list of its own: `.envrc`, `credentials`, `.git-credentials`,
    `.pgpass`, `*.env` and `secrets.*` were listed and their lines excerpted for the model (fails
    on d0bf429: every value below was in the context)."""
    root = repo({"src/app.py": "def use_key():\n    return AWS_SECRET_ACCESS_KEY\n", **SECRETS})
    task = "use_key AWS_SECRET_ACCESS_KEY aws_secret_access_key credentials pgpass API_KEY api_key"
    res = build_context(root, task, 4000, data_dir=data_dir)
    assert res.files == ["src/app.py"]
    leaked = [
        v for body in SECRETS.values() for v in body.split() if "VALUE" in v and v in res.text
    ]
    assert leaked == []


def test_no_secret_file_is_shipped_to_a_worker(repo, data_dir) -> None:
    """The Ray bundle kept a list of its own too: `.envrc`, `credentials`, ... went to the
    cluster (fails on d0bf429)."""
    from harness_ls.executor.transfer import pack_workspace

    root = repo({"src/app.py": "x = 1\n"})
    for name, body in {**SECRETS, ".env.example": "KEY=\n"}.items():  # untracked, as they should be
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    shipment = pack_workspace(data_dir, root, "ship")
    assert sorted(shipment.payload.left_out) == sorted(SECRETS)
    for body in SECRETS.values():
        assert body.encode() not in shipment.patch and body.encode() not in (shipment.bundle or b"")
    assert b".env.example" in shipment.patch


def test_a_file_your_policy_declares_secret_stays_out_of_the_map(repo, data_dir) -> None:
    """`secret_files = [...]` in policy.toml kept a file from the tools but not from the map
    (fails on d0bf429: its lines were excerpted)."""
    root = repo({"src/app.py": "def use_vault():\n    return vault_token\n"})
    (root / "config").mkdir()
    (root / "config" / "prod.secret").write_text("vault_token = vaultVALUE7\n")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "policy.toml").write_text('secret_files = ["config/*.secret"]\n')
    res = build_context(root, "use_vault vault_token", 4000, data_dir=data_dir)
    assert res.files == ["src/app.py"] and "vaultVALUE7" not in res.text


def test_a_file_your_policy_declares_secret_is_not_shipped(repo, data_dir) -> None:
    from harness_ls.executor.transfer import pack_workspace

    root = repo({"src/app.py": "x = 1\n"})
    (root / "config").mkdir()
    (root / "config" / "prod.secret").write_text("vault_token = vaultVALUE8\n")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "policy.toml").write_text('secret_files = ["config/*.secret"]\n')
    shipment = pack_workspace(data_dir, root, "ship")
    assert shipment.payload.left_out == ["config/prod.secret"]
    assert b"vaultVALUE8" not in shipment.patch
