/**
 * The interpreter selected in the Python extension (ms-python.python), if it is installed.
 * Its API changed over the years: try the environments API, then the older execution details,
 * then the `python.defaultInterpreterPath` setting. Never throws.
 */
import * as vscode from "vscode";

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path?: string } | undefined;
    resolveEnvironment?(env: unknown): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined;
  };
}

export async function pythonInterpreter(
  resource: vscode.Uri | undefined,
  log: vscode.LogOutputChannel,
): Promise<string[] | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>("ms-python.python");
  if (ext !== undefined) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const envPath = api?.environments?.getActiveEnvironmentPath?.(resource);
      if (envPath !== undefined && api.environments?.resolveEnvironment !== undefined) {
        const env = await api.environments.resolveEnvironment(envPath);
        const exe = env?.executable?.uri?.fsPath;
        if (exe) {
          return [exe];
        }
      }
      const exec = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
      if (exec !== undefined && exec.length > 0) {
        return [...exec];
      }
    } catch (error) {
      log.warn(`Could not ask the Python extension for its interpreter: ${String(error)}`);
    }
  }
  const configured = vscode.workspace.getConfiguration("python", resource).get<string>("defaultInterpreterPath");
  if (configured && configured !== "python") {
    return [configured];
  }
  return undefined;
}
