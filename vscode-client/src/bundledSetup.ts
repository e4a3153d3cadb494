/**
 * Runs the plan of bundledServer.ts: finds a Python, builds the venv once, returns the server
 * command. Node only (child_process, fs), no VS Code API: the extension passes its storage path,
 * a logger and a progress wrapper.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";

import {
  type BundleManifest,
  envDir,
  installSteps,
  noPythonMessage,
  parseManifest,
  parseProbe,
  PROBE_CODE,
  pythonCandidates,
  type PythonInfo,
  satisfies,
  serverCommandLine,
  type Stamp,
  stampMatches,
  type Step,
} from "./bundledServer";

export interface SetupLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type SetupResult =
  | { ok: true; command: string; args: string[]; python: string; fresh: boolean }
  | { ok: false; message: string; tried: string[] };

export interface Bundle {
  dir: string;
  manifest: BundleManifest;
}

const STAMP = "harness-bundle.json";

/** The bundle inside the installed extension, or undefined (a development build without one). */
export async function readBundle(extensionPath: string): Promise<Bundle | undefined> {
  const dir = path.join(extensionPath, "bundled");
  try {
    const manifest = parseManifest(await fs.readFile(path.join(dir, "manifest.json"), "utf8"));
    return manifest === undefined ? undefined : { dir, manifest };
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, out: `${stdout}${stderr}`.trim() || (error ? String(error.message) : "") });
    });
  });
}

export async function findPython(
  fromExtension: string[] | undefined,
  minimum: string,
  platform: NodeJS.Platform,
): Promise<{ python?: PythonInfo; tried: string[] }> {
  const tried: string[] = [];
  for (const candidate of pythonCandidates(fromExtension, platform)) {
    const probe = await run(candidate[0], [...candidate.slice(1), "-c", PROBE_CODE], 15000);
    const info = probe.ok ? parseProbe(candidate, probe.out) : undefined;
    tried.push(info ? `${candidate.join(" ")} (Python ${info.version.join(".")})` : `${candidate.join(" ")} (not found)`);
    if (info !== undefined && satisfies(info, minimum)) {
      return { python: info, tried };
    }
  }
  return { tried };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function runSteps(steps: Step[], log: SetupLog): Promise<string | undefined> {
  for (const step of steps) {
    log.info(`Bundled server: ${step.what}: ${[step.command, ...step.args].join(" ")}`);
    const result = await run(step.command, step.args, 600000);
    if (!result.ok) {
      const tail = result.out.split("\n").slice(-12).join("\n");
      log.warn(`Bundled server: ${step.what} failed:\n${tail}`);
      return `${step.what} failed: ${tail.split("\n").filter((l) => l.trim()).slice(-1)[0] ?? "see the Harness output"}`;
    }
  }
  return undefined;
}

/**
 * The bundled server's command, installing it first when this bundle has no venv yet.
 * `withProgress` shows the one-time setup to the user.
 */
export async function ensureBundledServer(opts: {
  bundle: Bundle;
  storage: string;
  pythonFromExtension: string[] | undefined;
  platform: NodeJS.Platform;
  log: SetupLog;
  withProgress: <T>(title: string, task: () => Promise<T>) => Promise<T>;
}): Promise<SetupResult> {
  const { bundle, storage, platform, log } = opts;
  const { manifest } = bundle;
  const target = envDir(storage, manifest, platform);
  const { command, args } = serverCommandLine(target, platform);
  const stamp = await fs.readFile(path.join(target, STAMP), "utf8").catch(() => undefined);
  if (stampMatches(stamp, manifest) && (await exists(command))) {
    return { ok: true, command, args, python: (JSON.parse(stamp as string) as Stamp).python, fresh: false };
  }
  const minimum = manifest.min_python || "3.11";
  const { python, tried } = await findPython(opts.pythonFromExtension, minimum, platform);
  if (python === undefined) {
    return { ok: false, message: noPythonMessage(tried, minimum), tried };
  }
  return opts.withProgress(`Harness: setting up the bundled harness-ls ${manifest.version} (first start only)`, async () => {
    await fs.mkdir(storage, { recursive: true });
    const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const started = Date.now();
    let online = false;
    let failure = await runSteps(installSteps(python, bundle.dir, manifest, staging, platform, false), log);
    if (failure !== undefined) {
      // most likely a native wheel this platform needs is not bundled: let pip fetch the pins
      log.info("Bundled server: retrying with the package index for this platform's native wheels.");
      await fs.rm(staging, { recursive: true, force: true });
      online = true;
      failure = await runSteps(installSteps(python, bundle.dir, manifest, staging, platform, true), log);
    }
    if (failure !== undefined) {
      await fs.rm(staging, { recursive: true, force: true });
      return {
        ok: false as const,
        message: `could not set up the bundled harness-ls with ${python.executable}: ${failure}. See the Harness output; or set harness.server.command to a harness-ls you installed yourself.`,
        tried: [...tried, `bundled harness-ls ${manifest.version} with ${python.executable}`],
      };
    }
    const record: Stamp = { sha256: manifest.sha256, python: python.executable, online, installedAt: new Date().toISOString() };
    await fs.writeFile(path.join(staging, STAMP), JSON.stringify(record, null, 2));
    try {
      await fs.rename(staging, target);
    } catch {
      // a venv is already there: another window finished first (use it), or a broken one (replace)
      const theirs = await fs.readFile(path.join(target, STAMP), "utf8").catch(() => undefined);
      if (stampMatches(theirs, manifest) && (await exists(command))) {
        await fs.rm(staging, { recursive: true, force: true });
      } else {
        await fs.rm(target, { recursive: true, force: true });
        await fs.rename(staging, target);
      }
    }
    await removeOldBundles(storage, path.basename(target), log);
    log.info(`Bundled server: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${online ? "with the index" : "offline"}).`);
    return { ok: true as const, command, args, python: python.executable, fresh: true };
  });
}

/** Venvs of earlier bundles (an update) are removed, and unfinished ones a crash left (an hour
 * old: a fresh one may be another window's setup in progress). */
async function removeOldBundles(storage: string, keep: string, log: SetupLog): Promise<void> {
  let names: string[] = [];
  try {
    names = await fs.readdir(storage);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith("server-") || name === keep) {
      continue;
    }
    const full = path.join(storage, name);
    if (name.includes(".tmp-")) {
      const stat = await fs.stat(full).catch(() => undefined);
      if (stat === undefined || Date.now() - stat.mtimeMs < 3600_000) {
        continue;
      }
    }
    await fs.rm(full, { recursive: true, force: true }).catch((error: unknown) =>
      log.warn(`Could not remove an old bundled server ${name}: ${String(error)}`),
    );
  }
}
