"""HTTP host: the `/v1` JSON API, SSE event streams, the dashboard, auth and Host/Origin guards.

Entry points (imported lazily by hosts so the language server's cold start stays cheap):
`harness_ls.http.app.create_app(harness, token=..., allowed_hosts=...)` builds the Starlette app;
`harness_ls.http.server.start_sidecar(harness, host, port, token)` serves it in-process and
reports bind failures as `BindError` instead of exiting. See docs/remote-cockpit.md and
docs/security.md.
"""
