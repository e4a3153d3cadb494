/**
 * The server bundled in the .vsix (vscode-client/bundled/: harness-ls's wheel and every runtime
 * dependency's, see scripts/bundle_server.py), installed on first start into a venv in the
 * extension's global storage — Microsoft's python-tools extension template's convention, so the
 * extension needs nothing from PyPI.
 *
 * Pure planning (which Python, where the venv goes, which pip command) is separate from running
 * it, so the steps are unit-tested without VS Code. First start: find a Python >= 3.11, create
 * `<storage>/server-<version>-<hash>` with `python -m venv --without-pip` (Debian's python3
 * works without python3-venv's pip), run pip from the bundled pip wheel with `--no-index` against
 * the bundled wheels; when a native wheel for this platform is not bundled (macOS, Windows, arm64,
 * old glibc), retry letting pip fetch exactly the pinned versions (constraints.txt) from the
 * user's index. The venv is built under a temporary name and renamed into place, so a crash or a
 * second window never leaves a half-installed server behind. Later starts only check a stamp.
 */
import * as path from "node:path";

export interface BundleManifest {
  name: string;
  version: string;
  requirement: string;
  pip: string;
  min_python: string;
  sha256: string;
  wheels: string[];
}

export interface PythonInfo {
  command: string[];
  version: [number, number];
  executable: string;
}

export interface Step {
  what: string;
  command: string;
  args: string[];
}

export type Platform = NodeJS.Platform;

/** Parse bundled/manifest.json; undefined when it is not a bundle we understand. */
export function parseManifest(text: string): BundleManifest | undefined {
  try {
    const doc = JSON.parse(text) as Partial<BundleManifest>;
    const ok =
      typeof doc.version === "string" &&
      typeof doc.requirement === "string" &&
      typeof doc.pip === "string" &&
      typeof doc.sha256 === "string" &&
      Array.isArray(doc.wheels);
    return ok ? (doc as BundleManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Interpreters to try, best first: the Python extension's, then versioned names, then generic. */
export function pythonCandidates(fromExtension: string[] | undefined, platform: Platform): string[][] {
  const out: string[][] = [];
  if (fromExtension !== undefined && fromExtension.length > 0) {
    out.push(fromExtension);
  }
  if (platform === "win32") {
    out.push(["py", "-3"], ["python"], ["python3"]);
  } else {
    out.push(["python3.13"], ["python3.12"], ["python3.11"], ["python3"], ["python"]);
  }
  return out;
}

/** What the probe prints: "3.11 /usr/bin/python3.11" (major.minor, sys.executable). */
export const PROBE_CODE = "import sys, venv; print('%d.%d %s' % (sys.version_info[0], sys.version_info[1], sys.executable))";

export function parseProbe(command: string[], stdout: string): PythonInfo | undefined {
  const m = /^(\d+)\.(\d+) (.+)$/m.exec(stdout.trim());
  if (m === null) {
    return undefined;
  }
  return { command, version: [Number(m[1]), Number(m[2])], executable: m[3].trim() };
}

export function satisfies(info: PythonInfo, minimum: string): boolean {
  const [major, minor] = minimum.split(".").map(Number);
  return info.version[0] > major || (info.version[0] === major && info.version[1] >= minor);
}

/** Where this bundle's venv lives: one per bundle content, so an update installs afresh. */
export function envDir(storage: string, manifest: BundleManifest, platform: Platform): string {
  const p = platform === "win32" ? path.win32 : path.posix;
  return p.join(storage, `server-${manifest.version}-${manifest.sha256.slice(0, 12)}`);
}

export function venvPython(dir: string, platform: Platform): string {
  return platform === "win32" ? path.win32.join(dir, "Scripts", "python.exe") : path.posix.join(dir, "bin", "python");
}

/** The server is started as `<venv python> -m harness_ls`: the venv was built under a temporary
 * name and renamed, which breaks console scripts' shebangs but not the interpreter itself. */
export function serverCommandLine(dir: string, platform: Platform): { command: string; args: string[] } {
  return { command: venvPython(dir, platform), args: ["-m", "harness_ls"] };
}

/**
 * The commands that build the venv in `target`: create it, then install offline from the
 * bundled wheels; `online` lets pip fetch the pinned native wheels this platform lacks.
 */
export function installSteps(
  python: PythonInfo,
  bundleDir: string,
  manifest: BundleManifest,
  target: string,
  platform: Platform,
  online: boolean,
): Step[] {
  const p = platform === "win32" ? path.win32 : path.posix;
  const wheels = p.join(bundleDir, "wheels");
  const pip = p.join(wheels, manifest.pip, "pip"); // pip runs from its own wheel
  const common = ["--disable-pip-version-check", "--no-input", "--no-cache-dir", "--no-warn-script-location", "--no-compile"];
  const source = online
    ? ["--find-links", wheels, "--constraint", p.join(bundleDir, "constraints.txt"), "--prefer-binary"]
    : ["--isolated", "--no-index", "--find-links", wheels];
  return [
    { what: "create the venv", command: python.command[0], args: [...python.command.slice(1), "-m", "venv", "--without-pip", target] },
    {
      what: online ? "install (bundled wheels + the index for this platform's native wheels)" : "install (bundled wheels, offline)",
      command: venvPython(target, platform),
      args: [pip, "install", ...common, ...source, manifest.requirement],
    },
  ];
}

export interface Stamp {
  sha256: string;
  python: string;
  online: boolean;
  installedAt: string;
}

export function stampMatches(text: string | undefined, manifest: BundleManifest): boolean {
  if (text === undefined) {
    return false;
  }
  try {
    return (JSON.parse(text) as Partial<Stamp>).sha256 === manifest.sha256;
  } catch {
    return false;
  }
}

export function noPythonMessage(tried: string[], minimum: string): string {
  return (
    `the bundled harness-ls needs Python ${minimum} or newer, and none was found (tried: ${tried.join("; ")}). ` +
    `Install one (Debian/Ubuntu: sudo apt install python3; macOS: brew install python; Windows: python.org or the Store), ` +
    `select it in the Python extension, or set harness.server.command to a harness-ls you installed yourself.`
  );
}
