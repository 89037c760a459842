/** Multitask documents: formats never reproduce the paper's templates, several demonstrations of one task, seeded. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeRng } from "../src/util/random";
import { PROMPT_MAPS } from "../src/prompts/maps";
import { MT_KINDS, randomFormat, renderDemo, renderDocument, skeleton, usesPaperTemplate, type DemoFormat } from "../src/pretrain/corpus/formats";
import { makeMultitaskDocs, negate, swapWords, type SourcedItem } from "../src/pretrain/corpus/multitask";
import { multitaskRecords } from "../src/pretrain/corpus/task-records";

test("the paper's exact template is recognised and never drawn", () => {
  const paperLike: DemoFormat = { kind: "sentiment", layout: "hash", fieldNames: ["Input"], answerName: "Sentiment", gap: "", separator: "\n\n" };
  assert.equal(skeleton(paperLike), PROMPT_MAPS[0].sentiment);
  assert.ok(usesPaperTemplate(paperLike));
  const rng = makeRng(7);
  const layouts = new Set<string>();
  for (const kind of MT_KINDS) for (let i = 0; i < 300; i++) {
    const f = randomFormat(kind, rng);
    layouts.add(f.layout);
    assert.ok(!usesPaperTemplate(f), `${kind}: ${skeleton(f)}`);
    for (const id of [0, 1] as const) for (const t of Object.values(PROMPT_MAPS[id])) assert.ok(!skeleton(f).includes(t));
  }
  assert.deepEqual([...layouts].sort(), ["arrow", "bracket", "colon", "hash", "question"]);
});

test("a demonstration in the ### layout: fields, then the answer after the colon", () => {
  const f: DemoFormat = { kind: "nli", layout: "hash", fieldNames: ["Premise", "Hypothesis"], answerName: "Relation", labels: ["entailment", "neutral", "contradiction"], gap: "", separator: "\n\n" };
  assert.equal(renderDemo(f, ["A dog runs.", "An animal runs."], "entailment"), "### Premise:\nA dog runs.\n### Hypothesis:\nAn animal runs.\n### Relation:entailment");
  const doc = renderDocument({ ...f, layout: "colon", gap: " ", intro: "NLI." }, [
    { fields: ["a", "b"], label: 2 }, { fields: ["c", "d"], label: 1 },
  ]);
  assert.equal(doc, "NLI.\n\nPremise: a\nHypothesis: b\nRelation: contradiction\n\nPremise: c\nHypothesis: d\nRelation: neutral");
});

function items(): SourcedItem[] {
  const out: SourcedItem[] = [];
  for (let i = 0; i < 40; i++) out.push({ fields: [`Sentence number ${i} is here.`], label: i % 2, source: i < 30 ? "a" : "b" });
  return out;
}

test("documents: 3–8 demonstrations of one task in one format, labels from the format's label words, seeded", () => {
  const opts = { docs: 50, minDemos: 3, maxDemos: 8, maxChars: 10000 };
  const docs = makeMultitaskDocs("sentiment", items(), opts, makeRng(1));
  assert.equal(docs.length, 50);
  for (const d of docs) {
    assert.equal(d.kind, "mt-sentiment");
    const n = (d.text.match(/Sentence number \d+ is here\./g) ?? []).length;
    assert.ok(n >= 3 && n <= 8, `${n} demonstrations`);
    // every demonstration of a document comes from the document's source
    for (const m of d.text.matchAll(/Sentence number (\d+)/g)) assert.equal(Number(m[1]) < 30 ? "a" : "b", d.source);
  }
  assert.deepEqual(makeMultitaskDocs("sentiment", items(), opts, makeRng(1)), docs);
  assert.notDeepEqual(makeMultitaskDocs("sentiment", items(), opts, makeRng(2)), docs);
});

test("negation and word swaps", () => {
  assert.equal(negate("The plan was a success."), "The plan was not a success.");
  assert.equal(negate("It is not over."), "It is over.");
  assert.equal(negate("Birds fly south."), null);
  const s = swapWords("the quick brown fox jumps", makeRng(3));
  assert.ok(s);
  assert.notEqual(s, "the quick brown fox jumps");
  assert.deepEqual(s.split(" ").sort(), "the quick brown fox jumps".split(" ").sort());
});

test("multitask items as paper records: fields in the task's order, label words, balanced, seeded", () => {
  const nli: SourcedItem[] = [];
  for (let i = 0; i < 12; i++) nli.push({ fields: [`Premise ${i}.`, `Hypothesis ${i}.`], label: i % 3, source: "wordnet" });
  nli.push({ fields: ["A lone field."], label: 0, source: "wordnet" }); // wrong arity: never chosen
  const recs = multitaskRecords("inference", nli, 7, makeRng(1)) as unknown as Array<Record<string, unknown>>;
  assert.equal(recs.length, 6); // 7 / 3 labels, rounded down, per label
  assert.deepEqual(recs.map((r) => r.position), [0, 1, 2, 3, 4, 5]);
  const words = ["entailment", "neutral", "contradiction"];
  for (const r of recs) {
    const i = Number(/Premise (\d+)/.exec(r.input_1 as string)?.[1]);
    assert.equal(r.input_2, `Hypothesis ${i}.`);
    assert.equal(r.output, words[i % 3]);
  }
  assert.deepEqual(words.map((w) => recs.filter((r) => r.output === w).length), [2, 2, 2]);
  assert.deepEqual(multitaskRecords("inference", nli, 7, makeRng(1)), recs);

  const sentiment: SourcedItem[] = [{ fields: ["Lovely."], label: 0, source: "x" }, { fields: ["Dreadful."], label: 1, source: "x" }];
  assert.deepEqual((multitaskRecords("sentiment", sentiment, 2, makeRng(2)) as unknown as Array<Record<string, unknown>>).map((r) => [r.input, r.output]).sort(),
    [["Dreadful.", "negative"], ["Lovely.", "positive"]]);
  assert.throws(() => multitaskRecords("inference", nli, 15, makeRng(1)), /^Error: multitask records: inference needs 5 items labelled "entailment", the pool has 4$/);
  assert.throws(() => multitaskRecords("summary", nli, 2, makeRng(1)), /no multitask kind stands in for summary/);
});
