/** Real file-system and process probes for serverCommand.ts (Node only, no VS Code API). */
import { execFile } from "node:child_process";
import { constants, promises as fs } from "node:fs";

import type { Probes } from "./serverCommand";

export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === "win32") {
      return true;
    }
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<python> -c "import <module>"` with a timeout; any failure means "no". */
export function pythonHasModule(
  pythonCommand: string[],
  module: string,
  cwd?: string,
  timeoutMs = 15000,
): Promise<boolean> {
  return new Promise((resolve) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(module) || pythonCommand.length === 0) {
      resolve(false);
      return;
    }
    execFile(
      pythonCommand[0],
      [...pythonCommand.slice(1), "-c", `import ${module}`],
      { timeout: timeoutMs, windowsHide: true, cwd },
      (error) => resolve(error === null),
    );
  });
}

export const nodeProbes: Probes = { isExecutable, pythonHasModule };
