/** The showDocument middleware that routes dashboard links through asExternalUri (see dashboardLink.ts). */

import * as vscode from "vscode";
import type { ShowDocumentParams, ShowDocumentResult } from "vscode-languageclient/node";

import { isLoopbackHttp, splitFragment } from "./dashboardLink";

export async function showDocument(
  params: ShowDocumentParams,
  next: () => Promise<ShowDocumentResult>,
): Promise<ShowDocumentResult> {
  if (!params.external || !isLoopbackHttp(params.uri)) {
    return next();
  }
  const { base, fragment } = splitFragment(params.uri);
  const external = await vscode.env.asExternalUri(vscode.Uri.parse(base));
  const target = fragment ? external.with({ fragment }) : external;
  const success = await vscode.env.openExternal(target);
  return { success };
}
