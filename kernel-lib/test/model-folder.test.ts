import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { llamaConfig, readConfig } from "../src/model/config";
import { LlamaModel, parameterShapes } from "../src/model/llama";
import { loadModelFolder, saveModelFolder } from "../src/model/folder";
import { encodeSafetensors, loadSafetensors } from "../src/model/safetensors";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-folder-"));
const cfgTied = llamaConfig({ vocab_size: 50, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 2, initializer_range: 0.1 });
const cfgUntied = llamaConfig({ ...cfgTied, tie_word_embeddings: false, num_attention_heads: 4, num_key_value_heads: 2 });
const ids = [[0, 4, 9, 13, 49, 3]];

const logitsOf = (m: LlamaModel): Float32Array => tf.tidy(() => m.forward(ids).dataSync() as Float32Array);

/** A stand-in tokenizer: writes and reads tokenizer.json. */
class FakeTokenizer {
  constructor(readonly vocab: string[]) {}
  save(dir: string): void {
    fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify({ vocab: this.vocab }));
  }
  static load(dir: string): FakeTokenizer {
    return new FakeTokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")).vocab);
  }
}

test("float32 save/load round trip gives identical logits; the file is HF-shaped", async () => {
  await initBackend({ quiet: true });
  for (const cfg of [cfgTied, cfgUntied]) {
    const model = LlamaModel.init(cfg, 21);
    const dir = tmp();
    saveModelFolder(dir, model, { tokenizer: new FakeTokenizer(["a", "b"]) });
    assert.deepEqual(fs.readdirSync(dir).sort(), ["config.json", "model.safetensors", "tokenizer.json"]);
    const st = loadSafetensors(path.join(dir, "model.safetensors"));
    assert.equal(st.metadata.format, "pt");
    assert.deepEqual([...st.tensors.entries()].map(([n, t]) => [n, t.shape]), [...parameterShapes(cfg).entries()]);
    assert.equal(st.tensors.has("lm_head.weight"), !cfg.tie_word_embeddings);
    // HF layout: q_proj.weight[o][i] is the compute weight [i][o].
    const q = st.tensors.get("model.layers.0.self_attn.q_proj.weight")!;
    const qv = model.variables.get("model.layers.0.self_attn.q_proj.weight")!.arraySync() as number[][];
    assert.equal(q.data[1 * 16 + 3], qv[3][1]);

    const loaded = loadModelFolder(dir, { loadTokenizer: (d) => FakeTokenizer.load(d) });
    assert.deepEqual(loaded.config, cfg);
    assert.equal(loaded.storedDtype, "F32");
    assert.deepEqual(loaded.tokenizer?.vocab, ["a", "b"]);
    assert.deepEqual(logitsOf(loaded.model), logitsOf(model));
    loaded.model.dispose();
    model.dispose();
  }
});

test("float16 storage: half the bytes, logits within tolerance, torch_dtype recorded", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfgUntied, 22);
  const d32 = tmp(), d16 = tmp(), dbf = tmp();
  saveModelFolder(d32, model);
  saveModelFolder(d16, model, { dtype: "float16" });
  saveModelFolder(dbf, model, { dtype: "bfloat16" });
  const size = (d: string): number => fs.statSync(path.join(d, "model.safetensors")).size;
  assert.ok(size(d16) < 0.55 * size(d32));
  assert.equal(readConfig(d16).torch_dtype, "float16");
  const want = logitsOf(model);
  for (const [dir, dtype, tol] of [[d16, "F16", 2e-3], [dbf, "BF16", 2e-2]] as const) {
    const loaded = loadModelFolder(dir);
    assert.equal(loaded.storedDtype, dtype);
    const got = logitsOf(loaded.model);
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    assert.ok(worst < tol && worst > 0, `${dtype}: max |diff| ${worst}`);
    loaded.model.dispose();
  }
  model.dispose();
});

test("loading errors name the file", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfgUntied, 23);
  const dir = tmp();
  saveModelFolder(dir, model);
  const file = path.join(dir, "model.safetensors");
  const hf = model.toHF();
  const rewrite = (edit: (m: Map<string, { shape: number[]; data: Float32Array }>) => void): void => {
    const m = new Map(hf);
    edit(m);
    fs.writeFileSync(file, encodeSafetensors(m));
  };
  rewrite((m) => m.delete("lm_head.weight"));
  assert.throws(() => loadModelFolder(dir), (e: Error) => e.message === `${file}: missing tensor lm_head.weight`);
  rewrite((m) => m.set("model.norm.weight", { shape: [8], data: new Float32Array(8) }));
  assert.throws(() => loadModelFolder(dir), (e: Error) => e.message.startsWith(`${file}: tensor model.norm.weight has shape [8], the config needs [16]`));
  rewrite((m) => m.set("model.layers.7.mlp.up_proj.weight", { shape: [1], data: new Float32Array(1) }));
  assert.throws(() => loadModelFolder(dir), (e: Error) => e.message.startsWith(`${file}: tensor model.layers.7.mlp.up_proj.weight has no place`));
  fs.writeFileSync(file, Buffer.from("garbage!"));
  assert.throws(() => loadModelFolder(dir), (e: Error) => e.message.startsWith(`${file}: not a valid safetensors file`));
  fs.rmSync(file);
  assert.throws(() => loadModelFolder(dir), (e: Error) => e.message.startsWith(`${file}: missing`));
  assert.equal(tf.memory().numTensors, model.variables.size, "failed loads leak no tensors");
  model.dispose();
});
