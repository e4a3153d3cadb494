/**
 * Which process to start as the language server.
 *
 * Pure apart from the injected probes, so the search order is unit-tested without VS Code:
 * an explicit `harness.server.command` wins and never falls back (the user asked for it); with
 * the default, the server bundled in the .vsix comes first (server.ts, bundledServer.ts), and
 * only without one (a development build) or when it cannot be set up is the default name
 * `harness-ls` looked up on PATH, then in the workspace's virtualenv, then
 * run as `python -m harness_ls` with the Python extension's interpreter when that has the module,
 * and finally with `python3` from PATH (a `pip install --user` whose scripts dir is not on PATH).
 */
import * as path from "node:path";

export const DEFAULT_SERVER_COMMAND = "harness-ls";
export const PYTHON_MODULE = "harness_ls";

export type ServerSource = "setting" | "bundled" | "path" | "workspace-venv" | "python-extension" | "python-path";

export interface ServerCommand {
  command: string;
  args: string[];
  source: ServerSource;
}

export interface ServerCommandInput {
  /** Value of `harness.server.command` (empty means the default). The server runs in the first
   * workspace folder, so that is where the Python probes run too. */
  configured: string;
  /** Value of `harness.server.args`. */
  args: string[];
  /** File-system paths of the workspace folders, first one is the primary. */
  workspaceFolders: string[];
  /** Interpreter command from the Python extension, e.g. ["/proj/.venv/bin/python"]. */
  pythonCommand?: string[];
  env: { PATH?: string; PATHEXT?: string; HOME?: string; USERPROFILE?: string };
  platform: NodeJS.Platform;
}

export interface Probes {
  /** True when `file` exists, is a regular file and is executable. */
  isExecutable(file: string): Promise<boolean>;
  /**
   * True when `python -c "import <module>"` succeeds with this interpreter command, run in `cwd`:
   * the directory the server will run in, since Python imports from the current directory.
   */
  pythonHasModule(pythonCommand: string[], module: string, cwd?: string): Promise<boolean>;
}

export type Resolution =
  | { ok: true; server: ServerCommand; tried: string[] }
  | { ok: false; tried: string[]; message: string; explicit: boolean };

function pathApi(platform: NodeJS.Platform): typeof path.posix {
  return platform === "win32" ? path.win32 : path.posix;
}

function looksLikePath(command: string): boolean {
  return command.includes("/") || command.includes("\\") || command.startsWith("~");
}

/** Expand `~` and `${workspaceFolder}`; make a relative path absolute against the first folder. */
export function expandCommandPath(command: string, input: ServerCommandInput): string {
  const p = pathApi(input.platform);
  const folder = input.workspaceFolders[0];
  let out = command;
  if (folder !== undefined) {
    out = out.split("${workspaceFolder}").join(folder);
  }
  const home = input.env.HOME ?? input.env.USERPROFILE;
  if (home && (out === "~" || out.startsWith("~/") || out.startsWith("~\\"))) {
    out = p.join(home, out.slice(1));
  }
  if (!p.isAbsolute(out) && folder !== undefined) {
    out = p.resolve(folder, out);
  }
  return out;
}

/** Candidate file names for `name` in one directory (PATHEXT on Windows). */
function executableNames(name: string, input: ServerCommandInput): string[] {
  if (input.platform !== "win32") {
    return [name];
  }
  const exts = (input.env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e.length > 0);
  if (exts.some((e) => name.toLowerCase().endsWith(e.toLowerCase()))) {
    return [name];
  }
  return exts.map((e) => name + e.toLowerCase());
}

/** The first executable called `name` on PATH, or undefined. */
export async function findOnPath(
  name: string,
  input: ServerCommandInput,
  probes: Pick<Probes, "isExecutable">,
): Promise<string | undefined> {
  const p = pathApi(input.platform);
  const sep = input.platform === "win32" ? ";" : ":";
  const dirs = (input.env.PATH ?? "").split(sep).filter((d) => d.length > 0);
  for (const dir of dirs) {
    for (const file of executableNames(name, input)) {
      const full = p.join(dir, file);
      if (await probes.isExecutable(full)) {
        return full;
      }
    }
  }
  return undefined;
}

/** `harness-ls` inside a virtualenv of each workspace folder (.venv, then venv). */
export function workspaceVenvCandidates(input: ServerCommandInput): string[] {
  const p = pathApi(input.platform);
  const out: string[] = [];
  for (const folder of input.workspaceFolders) {
    for (const venv of [".venv", "venv"]) {
      out.push(
        input.platform === "win32"
          ? p.join(folder, venv, "Scripts", "harness-ls.exe")
          : p.join(folder, venv, "bin", "harness-ls"),
      );
    }
  }
  return out;
}

export function notFoundMessage(tried: string[]): string {
  return (
    // Plain text: VS Code notifications do not render Markdown.
    "harness-ls was not found. This build of the extension has no bundled server: install the " +
    ".vsix from 'make vsix' (it carries one), or install harness-ls from a checkout ('pip install -e .') " +
    "and set harness.server.command to its path. Tried: " +
    tried.join("; ")
  );
}

/** Is `configured` the default, i.e. "find a server for me" (bundled first)? */
export function isDefaultCommand(configured: string): boolean {
  const c = configured.trim();
  return c === "" || c === DEFAULT_SERVER_COMMAND;
}

/** Decide how to start the server; never throws for "not installed", returns a message instead. */
export async function resolveServerCommand(
  input: ServerCommandInput,
  probes: Probes,
): Promise<Resolution> {
  const configured = input.configured.trim();
  const args = [...input.args];
  const tried: string[] = [];

  if (configured !== "" && configured !== DEFAULT_SERVER_COMMAND) {
    if (looksLikePath(configured)) {
      const full = expandCommandPath(configured, input);
      tried.push(full);
      if (await probes.isExecutable(full)) {
        return { ok: true, server: { command: full, args, source: "setting" }, tried };
      }
      return {
        ok: false,
        explicit: true,
        tried,
        message: `harness.server.command is set to "${configured}", but ${full} is not an executable file. Fix the setting or clear it to use harness-ls from PATH.`,
      };
    }
    tried.push(`${configured} on PATH`);
    const found = await findOnPath(configured, input, probes);
    if (found !== undefined) {
      return { ok: true, server: { command: found, args, source: "setting" }, tried };
    }
    return {
      ok: false,
      explicit: true,
      tried,
      message: `harness.server.command is set to "${configured}", which is not on PATH. Use an absolute path or clear the setting.`,
    };
  }

  tried.push(`${DEFAULT_SERVER_COMMAND} on PATH`);
  const onPath = await findOnPath(DEFAULT_SERVER_COMMAND, input, probes);
  if (onPath !== undefined) {
    return { ok: true, server: { command: onPath, args, source: "path" }, tried };
  }

  for (const candidate of workspaceVenvCandidates(input)) {
    tried.push(candidate);
    if (await probes.isExecutable(candidate)) {
      return { ok: true, server: { command: candidate, args, source: "workspace-venv" }, tried };
    }
  }

  const python = input.pythonCommand?.filter((part) => part.length > 0) ?? [];
  if (python.length > 0) {
    tried.push(`${python.join(" ")} -m ${PYTHON_MODULE} (Python extension's interpreter)`);
    if (await probes.pythonHasModule(python, PYTHON_MODULE, input.workspaceFolders[0])) {
      return {
        ok: true,
        server: {
          command: python[0],
          args: [...python.slice(1), "-m", PYTHON_MODULE, ...args],
          source: "python-extension",
        },
        tried,
      };
    }
  }

  // Last resort: a `pip install --user` whose scripts dir is not on PATH still imports.
  for (const name of input.platform === "win32" ? ["python", "py"] : ["python3", "python"]) {
    const interpreter = await findOnPath(name, input, probes);
    if (interpreter === undefined || (python.length === 1 && python[0] === interpreter)) {
      continue;
    }
    tried.push(`${interpreter} -m ${PYTHON_MODULE}`);
    if (await probes.pythonHasModule([interpreter], PYTHON_MODULE, input.workspaceFolders[0])) {
      return {
        ok: true,
        server: { command: interpreter, args: ["-m", PYTHON_MODULE, ...args], source: "python-path" },
        tried,
      };
    }
    break;
  }

  return { ok: false, explicit: false, tried, message: notFoundMessage(tried) };
}
