/** Multitask documents: formats never reproduce the paper's templates, several demonstrations of one task, seeded. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeRng } from "../src/util/random";
import { PROMPT_MAPS } from "../src/prompts/maps";
import { MT_KINDS, randomFormat, renderDemo, renderDocument, skeleton, usesPaperTemplate, type DemoFormat } from "../src/pretrain/formats";
import { makeMultitaskDocs, negate, swapWords, type SourcedItem } from "../src/pretrain/multitask";

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
