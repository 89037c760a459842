import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLAMA_DEFAULTS, configFromJson, llamaConfig, readConfig, writeConfig } from "../src/model/config";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-cfg-"));

test("defaults plus overrides; kv heads follow the heads unless given", () => {
  const cfg = llamaConfig({ hidden_size: 64, num_attention_heads: 8 });
  assert.equal(cfg.hidden_size, 64);
  assert.equal(cfg.num_key_value_heads, 8);
  assert.equal(cfg.vocab_size, LLAMA_DEFAULTS.vocab_size);
  assert.equal(cfg.model_type, "llama");
  assert.deepEqual(cfg.architectures, ["LlamaForCausalLM"]);
  assert.equal(llamaConfig({ num_key_value_heads: 2 }).num_key_value_heads, 2);
});

test("config.json round trip, HF fields present", () => {
  const dir = tmp();
  const cfg = llamaConfig({ vocab_size: 300, tie_word_embeddings: false, rope_theta: 500000 });
  const file = writeConfig(dir, cfg);
  const raw = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const k of ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings",
    "rms_norm_eps", "rope_theta", "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "model_type", "architectures", "torch_dtype"]) {
    assert.ok(k in raw, k);
  }
  assert.deepEqual(readConfig(dir), cfg);
  assert.deepEqual(readConfig(file), cfg);
});

test("a foreign HF config: unknown fields ignored, HF defaults for missing ones", () => {
  const cfg = configFromJson({
    model_type: "llama", vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
    pretraining_tp: 1, transformers_version: "4.40.0",
  });
  assert.equal(cfg.rms_norm_eps, 1e-6);
  assert.equal(cfg.tie_word_embeddings, false);
  assert.equal(cfg.num_key_value_heads, 4);
  assert.equal(cfg.pad_token_id, cfg.eos_token_id);
});

test("validation errors are one line naming the file and the field", () => {
  const dir = tmp();
  const file = path.join(dir, "config.json");
  const base = JSON.parse(JSON.stringify(llamaConfig()));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ hidden_size: 100, num_attention_heads: 3 }, /hidden_size must be divisible by num_attention_heads \(100 \/ 3\)/],
    [{ vocab_size: -1 }, /vocab_size must be a positive integer \(got -1\)/],
    [{ eos_token_id: 99999 }, /eos_token_id must be an integer in \[0, vocab_size=4096\)/],
    [{ model_type: "gpt2" }, /model_type must be "llama"/],
    [{ rope_scaling: { type: "linear", factor: 2 } }, /rope_scaling must be null/],
    [{ hidden_act: "gelu" }, /hidden_act must be "silu"/],
    [{ num_key_value_heads: 3 }, /num_attention_heads must be a multiple of num_key_value_heads/],
  ];
  for (const [patch, re] of cases) {
    fs.writeFileSync(file, JSON.stringify({ ...base, ...patch }));
    assert.throws(() => readConfig(dir), (e: Error) => {
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  const { hidden_size: _drop, ...noHidden } = base;
  fs.writeFileSync(file, JSON.stringify(noHidden));
  assert.throws(() => readConfig(dir), /config\.json: hidden_size is missing/);
  fs.writeFileSync(file, "{ not json");
  assert.throws(() => readConfig(dir), /config\.json: not valid JSON/);
  assert.throws(() => readConfig(path.join(dir, "missing")), /missing\/config\.json: cannot read \(ENOENT\)/);
  assert.throws(() => llamaConfig({ num_hidden_layers: 0 }), /Error: llamaConfig: num_hidden_layers must be a positive integer/);
});
