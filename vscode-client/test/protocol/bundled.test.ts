/**
 * The bundle that `scripts/bundle_server.py` put into vscode-client/bundled/ (and the .vsix):
 * installed exactly as the extension does on first start (bundledSetup.ts) into a fresh storage
 * dir with a Python from PATH, offline; the server it gives answers `--version`; a second start
 * reuses it. Skips when no bundle was built (a development build), fails under CI=true.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";

import { ensureBundledServer, readBundle } from "../../src/bundledSetup";

const CLIENT = path.resolve(__dirname, "..", "..", "..");
const quiet = { info: () => undefined, warn: (m: string) => console.error(m), error: (m: string) => console.error(m) };

describe("bundled server", async () => {
  const bundle = await readBundle(CLIENT);
  const storage = await mkdtemp(path.join(tmpdir(), "harness-bundle-"));
  after(() => rm(storage, { recursive: true, force: true }));
  const skip = bundle === undefined && process.env.CI !== "true" ? "no bundle: run scripts/bundle_server.py" : false;

  test("installs offline from the bundle, runs, and is reused", { skip, timeout: 600000 }, async () => {
    assert.ok(bundle, "vscode-client/bundled/manifest.json is missing: run scripts/bundle_server.py");
    let shown = "";
    const t0 = Date.now();
    const first = await ensureBundledServer({
      bundle, storage, pythonFromExtension: undefined, platform: process.platform, log: quiet,
      withProgress: async (title, task) => { shown = title; return task(); },
    });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(first.ok, first.ok ? "" : first.message);
    assert.ok(first.fresh);
    assert.match(shown, /setting up the bundled harness-ls/);
    const version = await new Promise<string>((resolve, reject) =>
      execFile(first.command, [...first.args, "--version"], (error, stdout) => (error ? reject(new Error(error.message)) : resolve(stdout.trim()))),
    );
    assert.equal(version, `harness-ls ${bundle.manifest.version}`);
    const again = await ensureBundledServer({
      bundle, storage, pythonFromExtension: undefined, platform: process.platform, log: quiet,
      withProgress: () => Promise.reject(new Error("no setup expected the second time")),
    });
    assert.ok(again.ok && !again.fresh && again.command === first.command);
    assert.deepEqual((await readdir(storage)).filter((n) => n.startsWith("server-")).length, 1);
    console.log(`bundled server: first-start install ${seconds.toFixed(1)} s (offline, ${bundle.manifest.wheels.length} wheels)`);
  });
});
