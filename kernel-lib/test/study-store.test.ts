/**
 * The result store: content-hash keys (a changed setting or model misses, an unchanged one hits),
 * atomic records, and a store that a killed writer leaves readable.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tinyModelWorkspace } from "./fixtures";
import { TfjsCausalLM } from "../src/evaluate/tfjs-lm";
import { ResultStore, evaluateCached, folderHash, itemsStamp, stableJson } from "../src/study/store";
import { createHash } from "node:crypto";
import { projectRelative, projectRoot } from "../src/util/paths";
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

test("a writer killed with SIGKILL mid-run leaves only whole records; the rerun completes the rest", async () => {
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
  const run = () => spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
  // Killed as soon as its third record has landed (not after a fixed time, which a fast machine outran).
  const killed = await new Promise<{ signal: NodeJS.Signals | null }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: "ignore" });
    const third = path.join(dir, "store", "k2.json");
    const timer = setInterval(() => { if (fs.existsSync(third)) { clearInterval(timer); child.kill("SIGKILL"); } }, 2);
    child.on("exit", (_code, signal) => { clearInterval(timer); resolve({ signal }); });
  });
  assert.equal(killed.signal, "SIGKILL", "the writer was killed before finishing");
  const store = new ResultStore(path.join(dir, "store"));
  for (const r of store.all()) assert.equal(store.items(r.key).length, 20000, `record ${r.key} is whole`);
  const partial = store.all().length;
  assert.ok(partial < 40);
  // The killed writer's temp file (if it died mid-write) goes on the next run; a live writer's stays.
  const live = path.join(store.dir, `k99.json.tmp-${process.pid}-1`);
  fs.writeFileSync(live, "x");
  fs.writeFileSync(path.join(store.dir, "k98.json.tmp-999999999-1"), "x"); // no such process
  const removed = store.removeStaleTemps();
  assert.ok(removed.includes("k98.json.tmp-999999999-1"));
  assert.ok(fs.existsSync(live));
  fs.rmSync(live);
  assert.deepEqual(fs.readdirSync(store.dir).filter((f) => f.includes(".tmp-")), [], "no stale temp file left");
  const done = run();
  assert.equal(done.status, 0, done.stderr);
  assert.equal(store.all().length, 40);
  assert.deepEqual(store.all().map((r) => r.value).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});

test("a record stores its items file's sha256 and line count; a cut or changed items file is refused in one line, and recomputed", async () => {
  const store = new ResultStore(fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-store-stamp-")));
  const lm = TfjsCausalLM.fromFolder(modelDir);
  const modelKey = folderHash(modelDir);
  const spec: EvalSpec = { task: "sentiment", dataset: "amazon", k: 0, map: 0, limit: 250, fieldTokenCap: 64 };
  const first = await evaluateCached(lm, modelKey, spec, store);
  const itemsPath = path.join(store.dir, `${first.key}.items.jsonl`);
  const text = fs.readFileSync(itemsPath, "utf8");
  assert.deepEqual(first.itemsFile, { sha256: createHash("sha256").update(text).digest("hex"), lines: 4 });
  assert.deepEqual(itemsStamp(text), first.itemsFile);
  const lines = text.split("\n").filter(Boolean);
  const oneLine = (e: Error): boolean => !e.message.includes("\n") && e.message.startsWith(itemsPath);
  for (const [what, cut] of [
    ["cut at a line boundary", lines.slice(0, 2).join("\n") + "\n"],
    ["cut mid-line", text.slice(0, Math.floor(text.length / 2))],
    ["a changed score, same line count", text.includes('"score":1') ? text.replace('"score":1', '"score":0') : text.replace('"score":0', '"score":1')],
  ] as const) {
    const fresh = new ResultStore(store.dir); // a new process, so nothing is remembered as verified
    fs.writeFileSync(itemsPath, cut);
    assert.ok(fresh.lookup(first.key).problem, what);
    assert.throws(() => fresh.get(first.key), (e: Error) => oneLine(e) && /the record is not used/.test(e.message), what);
    assert.throws(() => fresh.items(first.key), (e: Error) => oneLine(e), what);
    // Where nothing may be computed it is an error; otherwise one warning line and a recomputed record.
    process.env.FTGEN_CACHED_ONLY = "1";
    try {
      await assert.rejects(evaluateCached(lm, modelKey, spec, fresh), (e: Error) => oneLine(e) && /nothing is computed in cached-only mode/.test(e.message), what);
    } finally {
      delete process.env.FTGEN_CACHED_ONLY;
    }
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      const again = await evaluateCached(lm, modelKey, spec, fresh);
      assert.equal(again.cached, false, what);
      assert.equal(again.value, first.value);
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^ftgen: .*\.items\.jsonl: .*; recomputing the record$/);
    assert.equal(fs.readFileSync(itemsPath, "utf8"), text, "the recomputed items are the original ones");
  }
  // A missing items file, and a record from before stamps, are refused too.
  fs.rmSync(itemsPath);
  assert.match(new ResultStore(store.dir).lookup(first.key).problem ?? "", /items\.jsonl: missing/);
  fs.writeFileSync(itemsPath, text);
  const rec = JSON.parse(fs.readFileSync(path.join(store.dir, `${first.key}.json`), "utf8"));
  delete rec.itemsFile;
  fs.writeFileSync(path.join(store.dir, `${first.key}.json`), JSON.stringify(rec));
  assert.match(new ResultStore(store.dir).lookup(first.key).problem ?? "", /carries no stamp of its items file/);
  lm.dispose();
});

test("model ids in records name folders inside the project relative to it, so a clone elsewhere shows no machine's path", () => {
  assert.equal(projectRelative(path.join(projectRoot(), "data", "base-model")), path.join("data", "base-model"));
  assert.equal(projectRelative(path.join(os.tmpdir(), "m")), path.join(os.tmpdir(), "m"));
  const lm = TfjsCausalLM.fromFolder(modelDir);
  assert.equal(lm.id, `tfjs:${modelDir}`, "a folder outside the project keeps its absolute path");
  lm.dispose();
});

test("folderHash of a LoRA adapter folder: its weights and settings, not where its base lay", () => {
  const mk = (base: string, weights: string): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-adapter-hash-"));
    fs.writeFileSync(path.join(d, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 16, lora_alpha: 32, base_model_name_or_path: base }));
    fs.writeFileSync(path.join(d, "adapter_model.safetensors"), weights);
    return d;
  };
  assert.equal(folderHash(mk("../smollm2-135m", "w")), folderHash(mk("/scratch/node7/models/smollm2-135m", "w")));
  assert.notEqual(folderHash(mk("../smollm2-135m", "w")), folderHash(mk("../smollm2-135m", "x")));
  const noWeights = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-adapter-hash-"));
  fs.writeFileSync(path.join(noWeights, "adapter_config.json"), "{}");
  assert.throws(() => folderHash(noWeights), /not an adapter folder \(no adapter_model\.safetensors\)/);
});
