import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import { isExecutable, pythonHasModule } from "../../src/probes";
import {
  expandCommandPath,
  findOnPath,
  type Probes,
  resolveServerCommand,
  type ServerCommandInput,
} from "../../src/serverCommand";

function input(overrides: Partial<ServerCommandInput> = {}): ServerCommandInput {
  return {
    configured: "harness-ls",
    args: [],
    workspaceFolders: ["/work/proj"],
    env: { PATH: "/usr/local/bin:/usr/bin", HOME: "/home/me" },
    platform: "linux",
    ...overrides,
  };
}

/** Probes over a fixed set of executables and interpreters that have the module. */
function fakeProbes(executables: string[], pythonsWithModule: string[] = []): Probes & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isExecutable: (file) => {
      calls.push(file);
      return Promise.resolve(executables.includes(file));
    },
    pythonHasModule: (cmd, _module, cwd) => {
      calls.push(`python:${cmd.join(" ")}@${cwd ?? ""}`);
      return Promise.resolve(pythonsWithModule.includes(cmd.join(" ")));
    },
  };
}

describe("resolveServerCommand", () => {
  test("harness-ls on PATH wins by default", async () => {
    const r = await resolveServerCommand(input(), fakeProbes(["/usr/bin/harness-ls", "/work/proj/.venv/bin/harness-ls"]));
    assert.ok(r.ok);
    assert.deepEqual(r.server, { command: "/usr/bin/harness-ls", args: [], source: "path" });
  });

  test("falls back to the workspace .venv when harness-ls is not on PATH", async () => {
    const r = await resolveServerCommand(input({ args: ["--log-level", "debug"] }), fakeProbes(["/work/proj/.venv/bin/harness-ls"]));
    assert.ok(r.ok);
    assert.equal(r.server.command, "/work/proj/.venv/bin/harness-ls");
    assert.equal(r.server.source, "workspace-venv");
    assert.deepEqual(r.server.args, ["--log-level", "debug"]);
  });

  test("falls back to python -m harness_ls with the Python extension's interpreter", async () => {
    const probes = fakeProbes([], ["/opt/conda/bin/conda run -n dev python"]);
    const r = await resolveServerCommand(
      input({ pythonCommand: ["/opt/conda/bin/conda", "run", "-n", "dev", "python"], args: ["-v"] }),
      probes,
    );
    assert.ok(probes.calls.includes("python:/opt/conda/bin/conda run -n dev python@/work/proj"), "probe runs in the workspace folder");
    assert.ok(r.ok);
    assert.deepEqual(r.server, {
      command: "/opt/conda/bin/conda",
      args: ["run", "-n", "dev", "python", "-m", "harness_ls", "-v"],
      source: "python-extension",
    });
  });

  test("skips an interpreter that lacks harness_ls and tries python3 from PATH", async () => {
    const r = await resolveServerCommand(
      input({ pythonCommand: ["/proj/.venv/bin/python"] }),
      fakeProbes(["/usr/bin/python3"], ["/usr/bin/python3"]),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.server, { command: "/usr/bin/python3", args: ["-m", "harness_ls"], source: "python-path" });
  });

  test("not found lists everything tried and says how to install", async () => {
    const r = await resolveServerCommand(input({ pythonCommand: ["/proj/py"] }), fakeProbes(["/usr/bin/python3"]));
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.explicit, false);
    assert.match(r.message, /harness-ls was not found/);
    assert.match(r.message, /no bundled server/);
    assert.doesNotMatch(r.message, /pipx/); // there is no harness-ls on PyPI
    assert.match(r.message, /harness\.server\.command/);
    assert.deepEqual(r.tried, [
      "harness-ls on PATH",
      "/work/proj/.venv/bin/harness-ls",
      "/work/proj/venv/bin/harness-ls",
      "/proj/py -m harness_ls (Python extension's interpreter)",
      "/usr/bin/python3 -m harness_ls",
    ]);
  });

  test("an explicit path is used as is and never falls back", async () => {
    const ok = await resolveServerCommand(input({ configured: "~/bin/hls" }), fakeProbes(["/home/me/bin/hls", "/usr/bin/harness-ls"]));
    assert.ok(ok.ok);
    assert.deepEqual(ok.server, { command: "/home/me/bin/hls", args: [], source: "setting" });

    const bad = await resolveServerCommand(input({ configured: "./tools/hls" }), fakeProbes(["/usr/bin/harness-ls"]));
    assert.ok(!bad.ok);
    assert.equal(bad.explicit, true);
    assert.match(bad.message, /\/work\/proj\/tools\/hls is not an executable file/);
  });

  test("an explicit bare name is looked up on PATH only", async () => {
    const r = await resolveServerCommand(input({ configured: "hls-dev" }), fakeProbes(["/work/proj/.venv/bin/harness-ls"]));
    assert.ok(!r.ok);
    assert.match(r.message, /"hls-dev", which is not on PATH/);
  });

  test("windows: PATHEXT and Scripts\\ of the venv", async () => {
    const win = input({
      platform: "win32",
      workspaceFolders: ["C:\\proj"],
      env: { PATH: "C:\\Tools;C:\\Python311\\Scripts", PATHEXT: ".COM;.EXE;.BAT" },
    });
    const onPath = await resolveServerCommand(win, fakeProbes(["C:\\Python311\\Scripts\\harness-ls.exe"]));
    assert.ok(onPath.ok);
    assert.equal(onPath.server.command, "C:\\Python311\\Scripts\\harness-ls.exe");
    const venv = await resolveServerCommand(win, fakeProbes(["C:\\proj\\.venv\\Scripts\\harness-ls.exe"]));
    assert.ok(venv.ok);
    assert.equal(venv.server.source, "workspace-venv");
  });
});

describe("expandCommandPath", () => {
  test("expands ${workspaceFolder} and ~", () => {
    assert.equal(expandCommandPath("${workspaceFolder}/.venv/bin/harness-ls", input()), "/work/proj/.venv/bin/harness-ls");
    assert.equal(expandCommandPath("~/x", input()), "/home/me/x");
    assert.equal(expandCommandPath("/abs/x", input()), "/abs/x");
  });
});

describe("real probes", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "harness-vscode-"));
    await mkdir(path.join(dir, "bin"));
    await writeFile(path.join(dir, "bin", "harness-ls"), "#!/bin/sh\nexit 0\n");
    await chmod(path.join(dir, "bin", "harness-ls"), 0o755);
    await writeFile(path.join(dir, "bin", "not-exec"), "x");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("isExecutable accepts an executable file and rejects others", async () => {
    assert.equal(await isExecutable(path.join(dir, "bin", "harness-ls")), true);
    assert.equal(await isExecutable(path.join(dir, "bin", "not-exec")), process.platform === "win32");
    assert.equal(await isExecutable(path.join(dir, "bin")), false);
    assert.equal(await isExecutable(path.join(dir, "missing")), false);
  });

  test("pythonHasModule imports in the server's cwd (Python puts the cwd on sys.path)", async (t) => {
    const python = await findOnPath("python3", input({ env: { PATH: process.env.PATH } }), { isExecutable });
    if (python === undefined) {
      t.skip("no python3 on PATH");
      return;
    }
    await mkdir(path.join(dir, "pkg", "only_here_mod"), { recursive: true });
    await writeFile(path.join(dir, "pkg", "only_here_mod", "__init__.py"), "");
    assert.equal(await pythonHasModule([python], "only_here_mod", path.join(dir, "pkg")), true);
    assert.equal(await pythonHasModule([python], "only_here_mod", dir), false);
    assert.equal(await pythonHasModule([python], "bad module; rm -rf /", dir), false);
  });

  test("findOnPath finds the file in a real directory", async () => {
    const found = await findOnPath("harness-ls", input({ env: { PATH: `/nonexistent:${path.join(dir, "bin")}` } }), { isExecutable });
    assert.equal(found, path.join(dir, "bin", "harness-ls"));
  });
});
