/**
 * Held-out loss of any model folder on a pretraining corpus' held-out documents, by the same code the
 * recipe's export uses (kernel-lib/src/pretrain/run/heldout.ts): per token and per character, overall,
 * per document kind and per source. For models trained elsewhere (bench/torch_pretrain.py on a GPU),
 * so that every row of experiments/pretrain/README.md is measured the same way.
 *
 *   tsx experiments/pretrain/heldout-loss.ts MODEL_DIR --corpus CORPUS_DIR [--seq N] [--json FILE]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { loadModelFolder } from "../../kernel-lib/src/model/folder";
import { BpeTokenizer } from "../../kernel-lib/src/tokenizer/tokenizer";
import { readCorpusJsonl } from "../../kernel-lib/src/pretrain/corpus/corpus";
import { heldoutLoss } from "../../kernel-lib/src/pretrain/run/heldout";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { corpus: { type: "string" }, seq: { type: "string" }, json: { type: "string" } } });
  const dir = positionals[0];
  if (!dir || !values.corpus) throw new Error("usage: tsx experiments/pretrain/heldout-loss.ts MODEL_DIR --corpus CORPUS_DIR [--seq N] [--json FILE]");
  await initBackend({ quiet: true });
  const { model, config, tokenizer } = loadModelFolder(dir, { loadTokenizer: (d) => BpeTokenizer.load(d) });
  const corpusTok = fs.readFileSync(path.join(values.corpus, "tokenizer.json"), "utf8");
  if (fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8") !== corpusTok) {
    throw new Error(`${path.join(dir, "tokenizer.json")}: not the tokenizer of ${values.corpus}; held-out losses would not compare`);
  }
  const seqLen = values.seq === undefined ? config.max_position_embeddings : Number(values.seq);
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`--seq must be an integer ≥ 2, got "${values.seq}"`);
  try {
    const report = heldoutLoss(model, tokenizer!, readCorpusJsonl(path.join(values.corpus, "heldout.jsonl")), { seqLen });
    const f = (x: number): string => x.toFixed(3);
    console.log(`all ${f(report.all.loss)} nats/token, ${f(report.all.lossPerChar)} nats/char (${report.all.tokens.toLocaleString("en-US")} tokens)`);
    for (const [kind, s] of Object.entries(report.byKind)) console.log(`  ${kind.padEnd(14)} ${f(s.loss)} nats/token, ${f(s.lossPerChar)} nats/char`);
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(report, null, 1) + "\n");
  } finally {
    model.dispose();
  }
}

main().catch((e: Error) => {
  console.error(`heldout-loss: ${e.message}`);
  process.exit(1);
});
