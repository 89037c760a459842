/**
 * Probe (experiment 9): does a short anneal on fresh multitask documents teach a trained base model to
 * learn from demonstrations? Draws new multitask documents with the corpus's own builders and a seed
 * of its own (new item combinations and formats, none seen in pretraining), mixes them with general
 * documents of the base model's corpus, and goes on training the base folder on them with the
 * language-model loss (every token), at a low learning rate with linear decay. Writes the annealed
 * folder; `npm run base-bar` then scores it against the bar.
 *
 *   tsx experiments/pretrain/probe-anneal.ts BASE_DIR CORPUS_DIR --out DIR [--mt-docs N] [--general-docs N] [--lr X]
 *
 * CORPUS_DIR is the base model's pretraining corpus folder (its tokenizer must be the base's).
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { loadModelFolder, saveModelFolder } from "../../kernel-lib/src/model/folder";
import { BpeTokenizer } from "../../kernel-lib/src/tokenizer/tokenizer";
import { FINETUNE_DEFAULTS, train } from "../../kernel-lib/src/train/loop";
import type { TokenizedExample } from "../../kernel-lib/src/train/examples";
import { makeRng, shuffled } from "../../kernel-lib/src/util/random";
import { DEFAULT_CORPUS_CONFIG, multitaskPools, readCorpusJsonl } from "../../kernel-lib/src/pretrain/corpus/corpus";
import { loadSources } from "../../kernel-lib/src/pretrain/sources/load-sources";
import { MT_KINDS } from "../../kernel-lib/src/pretrain/corpus/formats";
import { makeMultitaskDocs } from "../../kernel-lib/src/pretrain/corpus/multitask";
import { writeFileAtomic } from "../../kernel-lib/src/util/atomic";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: "string" }, "mt-docs": { type: "string" }, "general-docs": { type: "string" }, lr: { type: "string" } } });
  const [base, corpusDir] = positionals;
  if (!base || !corpusDir || !values.out) throw new Error("usage: tsx experiments/pretrain/probe-anneal.ts BASE_DIR CORPUS_DIR --out DIR [--mt-docs N] [--general-docs N] [--lr X]");
  const mtDocs = Number(values["mt-docs"] ?? 2000), generalDocs = Number(values["general-docs"] ?? 1000), lr = Number(values.lr ?? 3e-4);
  const baseTok = fs.readFileSync(path.join(base, "tokenizer.json"), "utf8"), corpusTok = fs.readFileSync(path.join(corpusDir, "tokenizer.json"), "utf8");
  if (baseTok !== corpusTok) throw new Error(`${corpusDir}/tokenizer.json: not the tokenizer of ${base}`);
  await initBackend({ quiet: true });

  const rng = makeRng("probe-anneal");
  const cfg = DEFAULT_CORPUS_CONFIG;
  const pools = multitaskPools(loadSources(cfg.sources), rng.fork());
  const mt = MT_KINDS.flatMap((k) => makeMultitaskDocs(k, pools[k], { docs: Math.round(mtDocs / MT_KINDS.length), minDemos: cfg.minDemos, maxDemos: cfg.maxDemos, maxChars: cfg.maxMultitaskChars }, rng.fork()));
  const shards = fs.readdirSync(corpusDir).filter((f) => /^train-\d+\.jsonl$/.test(f)).sort();
  const general = shuffled(shards.flatMap((f) => readCorpusJsonl(path.join(corpusDir, f))).filter((d) => d.kind === "general"), rng.fork()).slice(0, generalDocs);
  const docs = shuffled([...mt, ...general], rng.fork());

  const loaded = loadModelFolder(base, { loadTokenizer: (d: string) => BpeTokenizer.load(d) });
  const tok = loaded.tokenizer as BpeTokenizer;
  const maxLen = loaded.config.max_position_embeddings;
  // Every token of a document is a target (targetStart 1: after BOS), as in pretraining; long documents are cut.
  const examples: TokenizedExample[] = docs.map((d) => ({ ids: [tok.bosId, ...tok.encode(d.text), tok.eosId].slice(0, maxLen), targetStart: 1, droppedPromptTokens: 0 }));
  const tokens = examples.reduce((s, e) => s + e.ids.length, 0);
  console.log(`anneal: ${mt.length} multitask + ${general.length} general documents, ${tokens.toLocaleString("en-US")} tokens, lr ${lr}`);
  let last = 0;
  // Fine-tuning's defaults (batch 16, linear decay to 0, no checkpoints), with pretraining's weight decay and β2.
  const result = await train(loaded.model, examples, { ...FINETUNE_DEFAULTS, epochs: 1, lr, warmupSteps: 10, weightDecay: 0.1, beta2: 0.95 }, {
    onProgress: (p) => {
      if (p.step - last >= 25 || p.step === p.totalSteps) {
        last = p.step;
        console.log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s, eta ${Math.round(p.etaSeconds)} s`);
      }
    },
  });
  saveModelFolder(values.out, loaded.model, { tokenizer: tok });
  writeFileAtomic(path.join(values.out, "anneal.json"), JSON.stringify({ base: path.resolve(base), corpus: path.resolve(corpusDir), mtDocs: mt.length, generalDocs: general.length, tokens, lr, steps: result.steps, seconds: result.seconds, losses: result.losses }, null, 1) + "\n");
  loaded.model.dispose();
  console.log(`anneal: ${result.steps} steps in ${Math.round(result.seconds)} s; wrote ${values.out}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
