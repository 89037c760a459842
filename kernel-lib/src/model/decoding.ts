/**
 * What every decoder shares: left-padded batches, batches of similar length, and the greedy loop
 * with its stop rules. The tfjs model (inference.ts), the native runtime (native-inference.ts) and
 * the ONNX engine feed it logits their own way.
 */

/** Left-padded rows and their attention mask (1 real, 0 padding). */
export interface LeftPadded {
  ids: number[][];
  mask: number[][];
  /** Length of the padded rows. */
  width: number;
}

/** Left-pads `seqs` with `padId` to a common length (at least `minWidth`). */
export function leftPad(seqs: readonly (readonly number[])[], padId: number, minWidth = 0): LeftPadded {
  const width = Math.max(minWidth, ...seqs.map((s) => s.length));
  const ids = seqs.map((s) => [...new Array<number>(width - s.length).fill(padId), ...s]);
  const mask = seqs.map((s) => [...new Array<number>(width - s.length).fill(0), ...new Array<number>(s.length).fill(1)]);
  return { ids, mask, width };
}

/** Item indices in batches of ≤ batchSize, shortest first. */
export function lengthBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Decides whether a row stops, given the tokens it has generated so far (EOS excluded) and its prompt's index. */
export type StopRule = (newIds: readonly number[], promptIndex: number) => boolean;

/** A stop rule: the decoded new tokens contain `text` (default "\n\n"). */
export function stopOnText(decode: (ids: readonly number[]) => string, text = "\n\n"): StopRule {
  return (ids) => decode(ids).includes(text);
}

export interface GenerateOptions {
  /** At most this many new tokens per row. */
  maxNewTokens: number;
  /** Stop a row at this id, which is not returned (default the config's eos_token_id; −1: never). */
  eosId?: number;
  /** Stop a row at any of these ids (none is returned); overrides eosId. */
  eosIds?: readonly number[];
  /** Stop a row when this returns true; the token that triggered it is kept. */
  stop?: StopRule;
  /** Rows per batch (default 16). */
  batchSize?: number;
  padId?: number;
}

export type FinishReason = "eos" | "stop" | "length";

export interface Generation {
  /** Per prompt: the generated ids (without EOS). */
  tokens: number[][];
  finish: FinishReason[];
}

/** Index of the largest value in row `r` of a (rows, V) array; the first one on ties. */
export function argmaxRow(data: ArrayLike<number>, r: number, V: number): number {
  let best = 0, bestV = -Infinity;
  for (let i = 0; i < V; i++) {
    const v = data[r * V + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/**
 * The shared greedy loop: `next(step, lastTokens)` returns the logits (B, V) for the next token of
 * every row (the caller feeds its model however it likes); rows stop at an EOS id (opts.eosIds, else
 * opts.eosId), on `stop`, or at maxNewTokens.
 */
export function greedyLoop(rowIds: readonly number[], V: number, opts: GenerateOptions, next: (step: number, last: number[]) => Float32Array): { tokens: number[][]; finish: FinishReason[] } {
  const eos = new Set(opts.eosIds ?? [opts.eosId ?? -1]);
  const B = rowIds.length;
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const finish: (FinishReason | undefined)[] = new Array(B).fill(undefined);
  let last: number[] = [];
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const logits = next(step, last);
    last = [];
    for (let b = 0; b < B; b++) {
      const id = argmaxRow(logits, b, V);
      last.push(id);
      if (finish[b]) continue;
      if (eos.has(id)) finish[b] = "eos";
      else {
        tokens[b].push(id);
        if (opts.stop?.(tokens[b], rowIds[b])) finish[b] = "stop";
      }
    }
    if (finish.every((f) => f !== undefined)) break;
  }
  return { tokens, finish: finish.map((f) => f ?? "length") };
}


/** Length of the longest token prefix every row shares, leaving each row at least one token of its own. */
export function sharedPrefixLength(rows: readonly (readonly number[])[]): number {
  if (rows.length < 2) return 0;
  let n = Math.min(...rows.map((r) => r.length)) - 1;
  for (let i = 0; i < n; i++) {
    const id = rows[0][i];
    if (rows.some((r) => r[i] !== id)) { n = i; break; }
  }
  return Math.max(0, n);
}

