/**
 * Opening the dashboard from the editor: the server asks `window/showDocument` with an external
 * `http://127.0.0.1:<port>/#/runs/<id>` link. In code-server, Codespaces or Remote-SSH that
 * loopback address is the remote's, so it goes through `vscode.env.asExternalUri` (code-server
 * answers `…/proxy/<port>/`), and the `#/runs/<id>` deep link is put back on the result.
 */

/** The URL without its fragment, and the fragment (without `#`); pure, unit-tested. */
export function splitFragment(url: string): { base: string; fragment: string } {
  const at = url.indexOf("#");
  return at < 0 ? { base: url, fragment: "" } : { base: url.slice(0, at), fragment: url.slice(at + 1) };
}

/** True for the loopback http(s) links the sidecar hands out. */
export function isLoopbackHttp(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$|#|\?)/i.test(url);
}
