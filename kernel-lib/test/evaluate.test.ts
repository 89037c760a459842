/**
 * The evaluation rules, with a scripted language model standing in for a real one: first-token
 * label scoring, the prompt ids it sees, cutting generations at the first blank line, ROUGE-L,
 * exclusions, and the CI. Data are our fixtures.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { evaluate, labelFirstTokens, cutGeneration, promptIds } from "../src/evaluate/evaluate";
import type { CausalLM } from "../src/evaluate/lm";
import type { Encoder } from "../src/tokenizer/encoder";
import { keepLast, capFields } from "../src/prompts/fit";

// One token per character (code point + 10); BOS 0, EOS 1, PAD 2. "<s>" in text becomes BOS.
const enc: Encoder = {
  encode: (s) => s.split("<s>").flatMap((part, i) => [...(i > 0 ? [0] : []), ...[...part].map((c) => c.codePointAt(0)! + 10)]),
  decode: (ids) => Array.from(ids).map((i) => (i === 0 ? "<s>" : i < 10 ? "" : String.fromCodePoint(i - 10))).join(""),
  bosId: 0, eosId: 1, padId: 2,
};
const tok = (c: string): number => c.codePointAt(0)! + 10;

/** Answers "positive" when the prompt's last input line contains "o", and writes a fixed summary. */
function scriptedLm(seen: number[][]): CausalLM {
  return {
    id: "scripted", engine: "test", tokenizer: enc, contextLength: 4096,
    async nextTokenLogProbs(prompts, cands) {
      seen.push(...prompts.map((p) => [...p]));
      return prompts.map((p) => {
        const text = enc.decode(p);
        const last = text.slice(text.lastIndexOf("### Input:"));
        const pos = /o/.test(last.split("\n")[1]);
        return cands.map((c) => (c === tok("p") ? (pos ? -0.1 : -3) : pos ? -3 : -0.1));
      });
    },
    async logLikelihood() { throw new Error("not used"); },
    async generate(prompts, max, stop) {
      return prompts.map((p) => {
        const text = enc.decode(p);
        const answer = text.includes("bridge") ? " Old bridge to close.\n\nNext story" : " Rain in the north!\n\n###";
        const ids = enc.encode(answer).slice(0, max);
        // honour the stop rule the way a decoder would: stop once it holds
        for (let n = 1; n <= ids.length; n++) if (stop?.(ids.slice(0, n))) return ids.slice(0, n);
        return ids;
      });
    },
    dispose() {},
  };
}

before(async () => { await fetchedFixture(); });

test("labels are scored by their first token, which must differ between labels", () => {
  assert.deepEqual(labelFirstTokens(enc, ["positive", "negative"]), [tok("p"), tok("n")]);
  assert.throws(() => labelFirstTokens(enc, ["neutral", "negative"]), /labels "neutral" and "negative" share their first token/);
});

test("classification: accuracy over usable items, prompts as the model sees them, CI around it", async () => {
  const seen: number[][] = [];
  const res = await evaluate(scriptedLm(seen), { task: "sentiment", dataset: "amazon", k: 2, map: 0, limit: 250, fieldTokenCap: 100 });
  // Items: "Loved it." (o → positive ✓), "Awful." (no o → negative ✓), "Great value." (no o → negative ✗), "Works well." (o → positive ✓)
  assert.deepEqual(res.items.map((x) => [x.position, x.output, x.score]), [[0, "positive", 1], [2, "negative", 1], [3, "negative", 0], [4, "positive", 1]]);
  assert.equal(res.value, 0.75);
  assert.equal(res.n, 4);
  assert.equal(res.excluded, 1);
  assert.equal(res.metric, "accuracy");
  assert.ok(res.ci.low <= 0.75 && res.ci.high >= 0.75 && res.ci.low >= 0 && res.ci.high <= 1);
  // macro-F1: positive P=2/2 R=2/3 F=0.8; negative P=1/2 R=1/1 F=2/3 → mean 0.7333
  assert.ok(Math.abs(res.extra.macroF1 - (0.8 + 2 / 3) / 2) < 1e-9);
  // The model saw BOS + the 2-shot prompt (no "<s> " text for k > 0).
  const first = seen.find((p) => enc.decode(p).endsWith("Loved it.\n### Sentiment:"))!;
  assert.equal(enc.decode(first), "<s>### Input:\nSuperb.\n### Sentiment:positive\n\n### Input:\nJunk.\n### Sentiment:negative\n\n### Input:\nLoved it.\n### Sentiment:");
});

test("zero-shot prompts start with BOS and then the literal '<s> ', which the tokenizer parses as BOS", () => {
  assert.deepEqual(promptIds(enc, "<s> ab").slice(0, 4), [0, 0, tok(" "), tok("a")]);
});

test("generation: greedy output cut at the first blank line, scored by ROUGE-L", async () => {
  const res = await evaluate(scriptedLm([]), { task: "summary", dataset: "xsum", k: 1, map: 1, limit: 250, fieldTokenCap: 100 });
  assert.deepEqual(res.items.map((x) => x.output), ["Old bridge to close.", "Rain in the north!"]);
  // item 0: pred "old bridge to close" vs gold "old bridge to close for repairs": LCS 4, P=4/4, R=4/6 → F=0.8
  // item 1: pred "rain in the north" vs "a wet week in the north": LCS 3 (in the north), P=3/4, R=3/6 → F=0.6
  assert.ok(Math.abs(res.items[0].score - 0.8) < 1e-9);
  assert.ok(Math.abs(res.items[1].score - 0.6) < 1e-9);
  assert.ok(Math.abs(res.value - 0.7) < 1e-9);
  assert.equal(res.metric, "rougeL");
  assert.ok(res.extra.bleu >= 0 && res.extra.rouge1 > 0);
});

test("cutting and fitting helpers", () => {
  assert.equal(cutGeneration(" A summary.\n\n### Input:"), "A summary.");
  assert.equal(cutGeneration("no blank line"), "no blank line");
  assert.deepEqual(keepLast([0, 5, 6, 7, 8], 3, 0), { ids: [0, 7, 8], dropped: 2 });
  assert.deepEqual(keepLast([5, 6, 7], 2, 0), { ids: [6, 7], dropped: 1 });
  const capped = capFields("sentiment", { position: 0, input: "abcdefghij", output: "positive" }, enc, 4);
  assert.equal(capped.input, "abcd");
});
