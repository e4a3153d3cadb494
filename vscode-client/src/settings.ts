/**
 * VS Code settings → what the server gets.
 *
 * The server reads one object under the key `harness` (initializationOptions, the
 * `workspace/didChangeConfiguration` payload and `workspace/configuration` answers all carry
 * the same shape). The token never lives in settings.json: it comes from SecretStorage and is
 * merged in here. Pure, so the mapping is unit-tested.
 */

export const SECTION = "harness";
export const DEFAULT_SPEC_GLOBS = ["**/specs/**/spec.md", "**/*.spec.md"];
export const APPROVAL_PROMPTS = ["codeAction", "messageRequest"] as const;
export type ApprovalPrompt = (typeof APPROVAL_PROMPTS)[number];

export interface HarnessSettings {
  serverCommand: string;
  serverArgs: string[];
  specGlobs: string[];
  sidecar: { enabled: boolean; port: number | null };
  model: string;
  policyMode: string;
  approvalPrompt: ApprovalPrompt;
  notifyApprovals: boolean;
}

/** The object the server receives under `harness`. */
export interface ServerSettings {
  specGlobs: string[];
  sidecar: { enabled: boolean; port?: number };
  token?: string;
  model?: string;
  policyMode: string;
  approvalPrompt: ApprovalPrompt;
}

/** Policy modes from the strictest to the widest. */
export const POLICY_MODES = ["read-only", "ask", "auto-edit", "full-auto"] as const;

/** What `WorkspaceConfiguration.inspect` reports for one setting. */
export interface InspectedSetting {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

function mode(value: unknown): string | undefined {
  return typeof value === "string" && (POLICY_MODES as readonly string[]).includes(value.trim())
    ? value.trim()
    : undefined;
}

/**
 * The policy mode to use: the user's own (global) setting, or the default "ask"; a workspace or
 * folder value (it comes with the repository, in .vscode/settings.json) counts only when it is
 * stricter. A cloned repository must not turn approvals off for the user who opens it.
 */
export function narrowedPolicyMode(inspected: InspectedSetting | undefined): string {
  const user = mode(inspected?.globalValue) ?? mode(inspected?.defaultValue) ?? "ask";
  let chosen = user;
  for (const repo of [inspected?.workspaceValue, inspected?.workspaceFolderValue]) {
    const m = mode(repo);
    if (m !== undefined && POLICY_MODES.indexOf(m as never) < POLICY_MODES.indexOf(chosen as never)) {
      chosen = m;
    }
  }
  return chosen;
}

/** Settings that decide what runs: only the user's own value (or the default) counts. */
export const USER_ONLY = ["server.command", "server.args"] as const;

/** The user's (global) value or the default; a workspace or folder value is ignored. */
export function userValue(inspected: InspectedSetting | undefined): unknown {
  return inspected?.globalValue !== undefined ? inspected.globalValue : inspected?.defaultValue;
}

/** Reads one key below `harness.` (e.g. "sidecar.port"); returns undefined when unset. */
export type SettingGetter = (key: string) => unknown;

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  return value.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim());
}

function port(value: unknown): number | null {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
    return null;
  }
  return value;
}

/** Normalise raw settings: wrong types fall back to defaults instead of reaching the server. */
export function readSettings(get: SettingGetter): HarnessSettings {
  const globs = stringList(get("specGlobs"));
  const prompt = get("approvalPrompt");
  const policy = get("policyMode");
  const command = get("server.command");
  const model = get("model");
  const enabled = get("sidecar.enabled");
  const notify = get("notifyApprovals");
  return {
    serverCommand: typeof command === "string" ? command.trim() : "",
    serverArgs: stringList(get("server.args")) ?? [],
    specGlobs: globs !== undefined && globs.length > 0 ? globs : [...DEFAULT_SPEC_GLOBS],
    sidecar: { enabled: enabled !== false, port: port(get("sidecar.port")) },
    model: typeof model === "string" ? model.trim() : "",
    policyMode: typeof policy === "string" && policy.trim() !== "" ? policy.trim() : "ask",
    approvalPrompt: APPROVAL_PROMPTS.includes(prompt as ApprovalPrompt)
      ? (prompt as ApprovalPrompt)
      : "codeAction",
    notifyApprovals: notify !== false,
  };
}

/** The server's view: unset optional values are left out so the server applies its defaults. */
export function toServerSettings(settings: HarnessSettings, token?: string): ServerSettings {
  const out: ServerSettings = {
    specGlobs: [...settings.specGlobs],
    sidecar: { enabled: settings.sidecar.enabled },
    policyMode: settings.policyMode,
    approvalPrompt: settings.approvalPrompt,
  };
  if (settings.sidecar.port !== null) {
    out.sidecar.port = settings.sidecar.port;
  }
  if (token !== undefined && token.trim() !== "") {
    out.token = token.trim();
  }
  if (settings.model !== "") {
    out.model = settings.model;
  }
  return out;
}

/** initializationOptions and didChangeConfiguration both wrap the object in `{harness: ...}`. */
export function configurationPayload(settings: ServerSettings): { harness: ServerSettings } {
  return { harness: settings };
}

/**
 * Answer one `workspace/configuration` item: `harness` gives the whole object,
 * `harness.sidecar.port` a nested value; any other section is not ours (undefined).
 */
export function configurationItem(section: string | undefined, settings: ServerSettings): unknown {
  if (section === undefined) {
    return undefined;
  }
  if (section === SECTION) {
    return settings;
  }
  if (!section.startsWith(SECTION + ".")) {
    return undefined;
  }
  let node: unknown = settings;
  for (const part of section.slice(SECTION.length + 1).split(".")) {
    if (node === null || typeof node !== "object" || !(part in node)) {
      return null;
    }
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export interface DocumentFilterLike {
  scheme: string;
  pattern: string;
}

/**
 * Spec files the client sends to the server: one file filter per glob. The server matches globs
 * relative to a workspace folder (`specs/**\/spec.md`), VS Code against the absolute path, so a
 * relative glob gets a leading `**\/` here (the server still gets the globs as written).
 */
export function documentSelector(globs: string[]): DocumentFilterLike[] {
  return globs.map((glob) => ({
    scheme: "file",
    pattern: glob.startsWith("**/") || glob.startsWith("/") ? glob : `**/${glob.replace(/^\.\//, "")}`,
  }));
}

/** Which settings changes need a new server process (rather than a didChangeConfiguration). */
export const RESTART_KEYS = ["server.command", "server.args", "specGlobs"];
