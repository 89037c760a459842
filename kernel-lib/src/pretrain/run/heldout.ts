/**
 * Held-out evaluation of a pretrained model: mean next-token loss (and perplexity) on the corpus'
 * held-out documents, per document kind, per source and overall. Each (kind, source) cell is packed
 * on its own, exactly as training packs (BOS + ids + EOS, windows of seqLen + 1, stride seqLen), in
 * file order and with the last shorter window kept, so that every token but a cell's first is
 * scored once. Kind and source figures are token-weighted means over their cells. Loss per character
 * (the same sum over the documents' characters) compares models whose tokenizers differ: a smaller
 * vocabulary cuts text into more, easier tokens, so its loss per token is not comparable.
 */
import * as tf from "@tensorflow/tfjs";
import { collate } from "../../train/examples";
import type { Encoder } from "../../tokenizer/encoder";
import type { TrainableModel } from "../../train/loop";
import type { CorpusDoc } from "../corpus/types";
import { packDocuments, packedExamples } from "../corpus/packing";
import { groupBy as groupByKey } from "../../util/group";

export interface HeldoutScore {
  docs: number;
  /** Scored tokens (targets). */
  tokens: number;
  /** Mean cross-entropy in nats per token. */
  loss: number;
  perplexity: number;
  /** Characters of the documents' text (UTF-16 code units, as String.length counts). */
  chars: number;
  /** The summed cross-entropy over `chars`: nats per character, comparable across tokenizers. */
  lossPerChar: number;
}

export interface HeldoutReport {
  seqLen: number;
  all: HeldoutScore;
  byKind: Record<string, HeldoutScore>;
  bySource: Record<string, HeldoutScore>;
}

export interface HeldoutOptions {
  seqLen: number;
  /** Sequences per forward pass (default 16). */
  batchSize?: number;
  /** Called after each batch with the tokens scored so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

interface Cell { kind: string; source: string; docs: number; chars: number; sum: number; tokens: number }

function score(cells: readonly Cell[]): HeldoutScore {
  const docs = cells.reduce((s, c) => s + c.docs, 0);
  const tokens = cells.reduce((s, c) => s + c.tokens, 0);
  const sum = cells.reduce((s, c) => s + c.sum, 0);
  const chars = cells.reduce((s, c) => s + c.chars, 0);
  const loss = tokens > 0 ? sum / tokens : NaN;
  return { docs, tokens, loss, perplexity: Math.exp(loss), chars, lossPerChar: chars > 0 ? sum / chars : NaN };
}

function groupBy(cells: readonly Cell[], key: (c: Cell) => string): Record<string, HeldoutScore> {
  const groups = groupByKey(cells, key);
  return Object.fromEntries([...groups.keys()].sort().map((k) => [k, score(groups.get(k) as Cell[])]));
}

/** The held-out documents by (kind, source) cell, in order of first appearance, each document tokenized. */
export function heldoutCells(enc: Pick<Encoder, "encode">, docs: readonly CorpusDoc[]): Array<{ kind: string; source: string; chars: number; ids: number[][] }> {
  const byCell = new Map<string, { kind: string; source: string; chars: number; ids: number[][] }>();
  for (const d of docs) {
    const key = `${d.kind}\u0000${d.source}`;
    let c = byCell.get(key);
    if (!c) { c = { kind: d.kind, source: d.source, chars: 0, ids: [] }; byCell.set(key, c); }
    c.ids.push(enc.encode(d.text));
    c.chars += d.text.length;
  }
  return [...byCell.values()];
}

/** Loss of `model` on `docs` (no dropout, no gradients). */
export function heldoutLoss(model: TrainableModel, enc: Encoder, docs: readonly CorpusDoc[], opts: HeldoutOptions): HeldoutReport {
  if (docs.length === 0) throw new Error("heldoutLoss: no documents");
  const batchSize = opts.batchSize ?? 16;
  const packed = heldoutCells(enc, docs).map((c) => ({
    ...c, seqs: packedExamples(packDocuments(c.ids, { seqLen: opts.seqLen, bosId: enc.bosId, eosId: enc.eosId, keepPartial: true })),
  }));
  const total = packed.reduce((s, c) => s + c.seqs.reduce((t, e) => t + e.ids.length - 1, 0), 0);
  let done = 0;
  const cells: Cell[] = packed.map((c) => {
    let sum = 0, tokens = 0;
    for (let b = 0; b < c.seqs.length; b += batchSize) {
      const batch = collate(c.seqs.slice(b, b + batchSize), enc.padId);
      const loss = tf.tidy(() => model.batchLoss(batch));
      sum += loss.dataSync()[0] * batch.targetTokens;
      loss.dispose();
      tokens += batch.targetTokens;
      done += batch.targetTokens;
      opts.onProgress?.(done, total);
    }
    return { kind: c.kind, source: c.source, docs: c.ids.length, chars: c.chars, sum, tokens };
  });
  return { seqLen: opts.seqLen, all: score(cells), byKind: groupBy(cells, (c) => c.kind), bySource: groupBy(cells, (c) => c.source) };
}
