import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isLoopbackHttp, splitFragment } from "../../src/dashboardLink";
import { endMessage, increment } from "../../src/runEnd";

describe("endMessage", () => {
  test("carries the reason the server sent", () => {
    assert.equal(
      endMessage({ runId: "run_1", state: "failed", outcome: "failed: acceptance tests failed: 1 of 1 (`pytest -q`: exit 127)" }),
      "Harness: run run_1 failed: acceptance tests failed: 1 of 1 (`pytest -q`: exit 127)",
    );
    assert.equal(
      endMessage({ runId: "run_2", state: "completed", outcome: "completed offline: nothing executed — configure a model" }),
      "Harness: run run_2 completed offline: nothing executed — configure a model",
    );
    assert.equal(endMessage({ runId: "run_3", state: "cancelled" }), "Harness: run run_3 cancelled");
    assert.equal(
      endMessage({ runId: "run_4", state: "cancelled", outcome: "cancelled: from the editor while waiting for approval: overwrite greet.txt" }),
      "Harness: run run_4 cancelled: from the editor while waiting for approval: overwrite greet.txt",
    );
  });
});

describe("increment", () => {
  test("turns totals into increments, never backwards", () => {
    assert.equal(increment(0, 50), 50);
    assert.equal(increment(50, 100), 50);
    assert.equal(increment(50, 40), 0);
    assert.equal(increment(0, "x"), 0);
    assert.equal(increment(0, 250), 100);
  });
});

describe("dashboard links", () => {
  test("the run deep link survives asExternalUri", () => {
    assert.deepEqual(splitFragment("http://127.0.0.1:8787/#/runs/run_1"), { base: "http://127.0.0.1:8787/", fragment: "/runs/run_1" });
    assert.deepEqual(splitFragment("http://127.0.0.1:8787/"), { base: "http://127.0.0.1:8787/", fragment: "" });
  });
  test("only loopback http links are rewritten", () => {
    assert.equal(isLoopbackHttp("http://127.0.0.1:8787/#/runs/x"), true);
    assert.equal(isLoopbackHttp("http://localhost:9/"), true);
    assert.equal(isLoopbackHttp("https://example.com/"), false);
    assert.equal(isLoopbackHttp("file:///tmp/x.diff"), false);
  });
});
