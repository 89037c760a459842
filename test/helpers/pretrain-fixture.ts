/**
 * A pretraining corpus folder as the corpus stage writes it, at toy size (documents written here, a
 * tokenizer trained here), and a tiny recipe for it: shared by the pretraining tests.
 */
import fs from "node:fs";
import path from "node:path";
import { trainTokenizer } from "../../kernel-lib/src/tokenizer/tokenizer";
import { corpusStats } from "../../kernel-lib/src/pretrain/corpus/stats";
import { SOURCES } from "../../kernel-lib/src/pretrain/sources/sources";
import { makeRng } from "../../kernel-lib/src/util/random";
import type { CorpusDoc } from "../../kernel-lib/src/pretrain/corpus/types";

const WORDS = "the a cat dog bird sat ran on in under mat log tree house big small red green happy sad good bad very and".split(" ");

function sentence(rng: ReturnType<typeof makeRng>): string {
  return Array.from({ length: 5 + rng.int(6) }, () => WORDS[rng.int(WORDS.length)]).join(" ") + ".";
}

/** A corpus folder as the corpus stage writes it, at toy size. */
export function fixtureCorpus(dir: string): number {
  const rng = makeRng(11);
  const doc = (source: string, kind: CorpusDoc["kind"]): CorpusDoc => ({ source, kind, text: Array.from({ length: 2 + rng.int(4) }, () => sentence(rng)).join(" ") });
  const train: CorpusDoc[] = [
    ...Array.from({ length: 30 }, () => doc("brown", "general")),
    ...Array.from({ length: 10 }, () => doc("wink-sentiment", "mt-sentiment")),
    ...Array.from({ length: 10 }, () => doc("paper:amazon", "paper-input")),
  ];
  const heldout: CorpusDoc[] = [doc("brown", "general"), doc("brown", "general"), doc("wink-sentiment", "mt-sentiment"), doc("paper:amazon", "paper-input")];
  fs.mkdirSync(dir, { recursive: true });
  const jsonl = (docs: CorpusDoc[]): string => docs.map((d) => JSON.stringify(d)).join("\n") + "\n";
  fs.writeFileSync(path.join(dir, "train-00000.jsonl"), jsonl(train));
  fs.writeFileSync(path.join(dir, "heldout.jsonl"), jsonl(heldout));
  const tok = trainTokenizer(train.map((d) => d.text), { vocabSize: 300 });
  tok.save(dir);
  fs.writeFileSync(path.join(dir, "stats.json"), JSON.stringify(corpusStats(train, heldout, (t) => tok.encode(t).length)));
  fs.writeFileSync(path.join(dir, "build.json"), JSON.stringify({
    inputHash: "fixture", shards: ["train-00000.jsonl"], heldout: "heldout.jsonl",
    sources: SOURCES.filter((s) => s.id === "brown" || s.id === "wink-sentiment"), paperTrainFiles: ["sentiment/amazon_train_6000.json"],
  }));
  return tok.vocabSize;
}

export function recipe(vocab: number, overrides: { train?: Record<string, unknown> } = {}): object {
  return {
    model: { vocab_size: vocab, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 32 },
    train: {
      seqLen: 32, batchSize: 4, microBatchSize: 2, lr: 0.01, warmupSteps: 2, minLrRatio: 0.1, weightDecay: 0.1, maxGradNorm: 1,
      beta1: 0.9, beta2: 0.95, eps: 1e-8, totalSteps: 8, seed: 5, checkpointEvery: 3, ...overrides.train,
    },
    run: { maxMinutes: 10, reserveMinutes: 0 },
    export: { out: "unused", dtype: "float16", evalBatchSize: 3 },
  };
}
