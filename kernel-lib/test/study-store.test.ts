/**
 * The result store: content-hash keys (a changed setting or model misses, an unchanged one hits),
 * atomic records, and a store that a killed writer leaves readable.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tinyModelWorkspace } from "./fixtures";
import { TfjsCausalLM } from "../src/evaluate/tfjs-lm";
import { ResultStore, evaluateCached, folderHash, stableJson } from "../src/study/store";
import type { EvalSpec } from "../src/evaluate/evaluate";

let modelDir = "";

before(async () => {
  ({ base: modelDir } = await tinyModelWorkspace("ftgen-store-model-", { ctx: 256, seed: 7 }));
});

test("stableJson sorts keys and drops undefined", () => {
  assert.equal(stableJson({ b: 1, a: [2, { d: undefined, c: "x" }] }), '{"a":[2,{"c":"x"}],"b":1}');
  assert.equal(stableJson({ a: 1, b: 2 }), stableJson({ b: 2, a: 1 }));
});

test("keys: the same inputs hit, a changed setting or model misses; records round-trip with their items", async () => {
  const store = new ResultStore(fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-store-")));
  const lm = TfjsCausalLM.fromFolder(modelDir);
  const modelKey = folderHash(modelDir);
  const spec: EvalSpec = { task: "sentiment", dataset: "amazon", k: 2, map: 0, limit: 250, fieldTokenCap: 64 };
  const first = await evaluateCached(lm, modelKey, spec, store);
  assert.equal(first.cached, false);
  const again = await evaluateCached(lm, modelKey, { ...spec }, store);
  assert.equal(again.cached, true);
  assert.equal(again.value, first.value);
  assert.deepEqual(again.ci, first.ci);
  assert.equal(store.items(first.key).length, first.n);
  assert.deepEqual(store.items(first.key).map((x) => x.output).length, 4);
  // Each setting that changes the result changes the key; the model's identity too.
  const keys = new Set([
    store.key(modelKey, spec), store.key(modelKey, { ...spec, k: 0 }), store.key(modelKey, { ...spec, map: 1 }),
    store.key(modelKey, { ...spec, limit: 3 }), store.key(modelKey, { ...spec, fieldTokenCap: 32 }),
    store.key(modelKey, { ...spec, bootstrapSeed: 1 }), store.key("another-model", spec),
  ]);
  assert.equal(keys.size, 7);
  // A key does not depend on how the spec object was written.
  assert.equal(store.key(modelKey, { fieldTokenCap: 64, limit: 250, map: 0, k: 2, dataset: "amazon", task: "sentiment" }), first.key);
  // A changed model file changes the folder hash.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-store-copy-"));
  for (const f of fs.readdirSync(modelDir)) fs.copyFileSync(path.join(modelDir, f), path.join(copy, f));
  assert.equal(folderHash(copy), modelKey);
  fs.appendFileSync(path.join(copy, "config.json"), "\n");
  assert.notEqual(folderHash(copy), modelKey);
  assert.equal(store.all().length, 1);
  lm.dispose();
});

test("a writer killed with SIGKILL mid-run leaves only whole records; the rerun completes the rest", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-store-kill-"));
  // A child that stores 40 big records in a loop; killed after the first ones land.
  const script = path.join(dir, "writer.ts");
  fs.writeFileSync(script, `
import { ResultStore } from ${JSON.stringify(path.resolve(__dirname, "../src/study/store"))};
const store = new ResultStore(${JSON.stringify(path.join(dir, "store"))});
const items = Array.from({ length: 20000 }, (_, i) => ({ position: i, promptHash: "h", gold: "g", output: "o".repeat(50), score: 1 }));
for (let i = 0; i < 40; i++) {
  if (store.get("k" + i)) continue;
  store.put("k" + i, "m", { spec: { task: "sentiment", dataset: "amazon", k: 0, map: 0, limit: 1, fieldTokenCap: 1 }, modelId: "m", engine: "e", metric: "accuracy", value: i, ci: { low: 0, mid: 0, high: 0 }, n: items.length, excluded: 0, truncatedPrompts: 0, extra: {}, items, seconds: 0 } as never);
}
console.log("done");
`);
  const run = (timeoutMs?: number) => spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
  const killed = run(1500);
  assert.equal(killed.signal, "SIGKILL", "the writer was killed before finishing (raise its record count if this machine is fast)");
  const store = new ResultStore(path.join(dir, "store"));
  for (const r of store.all()) assert.equal(store.items(r.key).length, 20000, `record ${r.key} is whole`);
  const partial = store.all().length;
  assert.ok(partial < 40);
  const done = run();
  assert.equal(done.status, 0, done.stderr);
  assert.equal(store.all().length, 40);
  assert.deepEqual(store.all().map((r) => r.value).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});
