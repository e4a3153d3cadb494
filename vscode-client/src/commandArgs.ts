/**
 * The server's workspace commands and the argument each needs.
 *
 * Code lenses and code actions from the server carry their arguments; the same commands run from
 * the palette or a context menu arrive with none (or with a VS Code Uri), and the extension asks
 * the user for the missing one. Pure, unit-tested.
 */

export type ArgumentKind = "specUri" | "approvalId" | "runId" | "specName" | "none";

export const SERVER_COMMANDS: Readonly<Record<string, ArgumentKind>> = {
  "harness.runSpec": "specUri",
  "harness.approve": "approvalId",
  "harness.deny": "approvalId",
  "harness.approveSimilar": "approvalId",
  "harness.showDiff": "approvalId",
  "harness.cancelRun": "runId",
  "harness.showRun": "runId",
  "harness.newSpec": "specName",
  "harness.openDashboard": "none",
  "harness.runAcceptanceTests": "specUri",
};

/**
 * Context keys (`harness.offers.runSpec`, …) saying which server commands the running server
 * lists in executeCommandProvider, so menus never show a command the server cannot run.
 */
export function commandContextKeys(offered: readonly string[]): Record<string, boolean> {
  const keys: Record<string, boolean> = {};
  for (const command of Object.keys(SERVER_COMMANDS)) {
    keys[`harness.offers.${command.slice("harness.".length)}`] = offered.includes(command);
  }
  return keys;
}

export function argumentKind(command: string): ArgumentKind {
  return SERVER_COMMANDS[command] ?? "none";
}

/** True when the server can be called as is: it needs nothing, or got a non-empty string first. */
export function hasUsableArgument(command: string, args: unknown[]): boolean {
  if (argumentKind(command) === "none") {
    return true;
  }
  return typeof args[0] === "string" && args[0].trim() !== "";
}

const SPEC_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

/** Error text for a bad spec name, undefined when it is fine (it becomes a directory name). */
export function validateSpecName(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed === "") {
    return "Enter a name, e.g. add-login";
  }
  if (trimmed.length > 80) {
    return "Keep the name under 80 characters";
  }
  if (!SPEC_NAME.test(trimmed)) {
    return "Use letters, digits, '-', '_' or '.', starting with a letter or digit (it becomes specs/<name>/spec.md)";
  }
  return undefined;
}

/** A file URI or path in a command result (string, {uri}, {path}), to open it; else undefined. */
export function resultLocation(result: unknown): { uri?: string; path?: string } | undefined {
  if (typeof result === "string" && result !== "") {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(result) ? { uri: result } : { path: result };
  }
  if (result !== null && typeof result === "object") {
    const r = result as Record<string, unknown>;
    if (typeof r.uri === "string" && r.uri !== "") {
      return { uri: r.uri };
    }
    if (typeof r.path === "string" && r.path !== "") {
      return { path: r.path };
    }
  }
  return undefined;
}

/**
 * harness-ls shows its own window/showMessage before it answers with an implementation-defined
 * server error (-32099..-32000, e.g. "the spec has 2 errors"); the client then only logs it, so
 * the user never sees the same message twice. Other errors (invalid params, internal) are shown.
 */
export function serverAlreadyToldUser(error: unknown): boolean {
  const code = error !== null && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  return typeof code === "number" && code <= -32000 && code >= -32099;
}

/** The message of a JSON-RPC error or any thrown value, for the user. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (error !== null && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}
