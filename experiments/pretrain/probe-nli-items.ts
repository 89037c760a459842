/**
 * Probe (experiment 8): would NLI-like items shaped more like MultiNLI's carry to MultiNLI? Builds
 * items from our own sources by other rules than pretrain/corpus/multitask.ts's buildNliItems, fine-tunes a
 * base folder on 2,000 of them in the paper's format (as ft-ceiling --train multitask does with the
 * corpus's own items) and scores MultiNLI 0-shot against the majority baseline.
 *
 *   tsx experiments/pretrain/probe-nli-items.ts MODEL_DIR [--items N] [--out DIR]
 *
 * The rules, each a third of the items (label 0 entailment, 1 neutral, 2 contradiction):
 * - entailment: a KJV verse and the WEB's same verse (a paraphrase entails), or a corpus sentence and
 *   its main part (a trailing prepositional phrase or clause after a comma dropped);
 * - neutral: a corpus sentence and the next sentence of its paragraph (same topic, not implied);
 * - contradiction: a corpus sentence negated (buildNliItems' rule), or an adjective in it replaced by
 *   its WordNet antonym.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { finetune } from "../../kernel-lib/src/train/recipes";
import { ResultStore, folderHash } from "../../kernel-lib/src/study/store";
import { zeroShotLine } from "../../scripts/lib/zero-shot-line";
import { PROFILES } from "../../kernel-lib/src/study/profile";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { makeRng, shuffled, type Rng } from "../../kernel-lib/src/util/random";
import { loadSources } from "../../kernel-lib/src/pretrain/sources/load-sources";
import { candidateSentences, negate, type SourcedItem } from "../../kernel-lib/src/pretrain/corpus/multitask";
import { wordCount } from "../../kernel-lib/src/pretrain/sources/text";
import { multitaskRecords } from "../../kernel-lib/src/pretrain/corpus/task-records";
import type { Synset } from "../../kernel-lib/src/pretrain/sources/wordnet";

/** Adjective → an antonym, from WordNet's "!" pointers of adjective synsets. */
function antonyms(synsets: ReadonlyMap<string, Synset>): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of synsets.values()) {
    if (s.pos !== "a") continue;
    for (const p of s.pointers) {
      if (p.symbol !== "!") continue;
      const t = synsets.get(p.target);
      const from = s.words[Math.max(0, p.sourceWord - 1)] ?? s.words[0], to = t?.words[Math.max(0, p.targetWord - 1)] ?? t?.words[0];
      if (to && /^[a-z]{3,}$/.test(from) && /^[a-z]{3,}$/.test(to)) out.set(from, to);
    }
  }
  return out;
}

/** The sentence without a trailing phrase: cut at the last ", " or before a final preposition. */
function mainPart(sentence: string): string | null {
  const body = sentence.replace(/[.!?]$/, "");
  const comma = body.lastIndexOf(", ");
  const prep = /\s(in|on|at|with|for|from|during|after|before|because|when|while)\s[^,]*$/.exec(body);
  const cut = comma > 0 ? comma : prep ? prep.index : -1;
  if (cut <= 0) return null;
  const head = body.slice(0, cut).trim();
  return wordCount(head) >= 4 && wordCount(head) < wordCount(body) ? `${head}.` : null;
}

function buildItems(rng: Rng): SourcedItem[] {
  const src = loadSources(["brown", "sotu", "moby-dick", "wordnet", "kjv", "web"], () => {});
  const ant = antonyms(src.wordnet!.synsets);
  const paragraphs: string[][] = [];
  for (const t of [...(src.brown ?? []), ...(src.sotu ?? []), ...(src.mobyDick ?? [])]) {
    for (const p of t.text.split(/\n\s*\n/)) {
      const s = candidateSentences([p]);
      if (s.length >= 2) paragraphs.push(s);
    }
  }
  const web = new Map((src.web ?? []).map((v) => [v.ref, v.text]));
  const out: SourcedItem[] = [];
  for (const v of shuffled(src.kjv ?? [], rng).slice(0, 3000)) {
    const w = web.get(v.ref);
    if (w && wordCount(v.text) >= 5 && wordCount(v.text) <= 40) out.push({ fields: [v.text, w], label: 0, source: "kjv+web" });
  }
  for (const para of paragraphs) for (let i = 0; i + 1 < para.length; i++) {
    const s = para[i];
    const r = rng.next();
    if (r < 0.2) {
      const m = mainPart(s);
      if (m) out.push({ fields: [s, m], label: 0, source: "main-part" });
    } else if (r < 0.5) {
      out.push({ fields: [s, para[i + 1]], label: 1, source: "next-sentence" });
    } else if (r < 0.75) {
      const n = negate(s);
      if (n) out.push({ fields: [s, n], label: 2, source: "negation" });
    } else {
      const words = s.split(" ");
      const spots = words.map((x, j) => (ant.has(x) ? j : -1)).filter((j) => j >= 0);
      if (spots.length) {
        const j = spots[rng.int(spots.length)];
        const h = words.slice(); h[j] = ant.get(words[j]) as string;
        out.push({ fields: [s, h.join(" ")], label: 2, source: "antonym" });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { items: { type: "string" }, out: { type: "string" } } });
  const base = positionals[0];
  if (!base) throw new Error("usage: tsx experiments/pretrain/probe-nli-items.ts MODEL_DIR [--items N] [--out DIR]");
  const items = Number(values.items ?? 500);
  const out = values.out ?? path.join(projectRoot(), ".cache", "ft-ceiling", folderHash(base).slice(0, 12), "inference-probe-items");
  await initBackend({ quiet: true });
  const pool = buildItems(makeRng("probe-nli-items"));
  const counts = [0, 1, 2].map((l) => pool.filter((p) => p.label === l).length);
  console.log(`items: entailment ${counts[0]}, neutral ${counts[1]}, contradiction ${counts[2]}; by rule ${JSON.stringify(Object.fromEntries(["kjv+web", "main-part", "next-sentence", "negation", "antonym"].map((s) => [s, pool.filter((p) => p.source === s).length])))}`);
  const records = multitaskRecords("inference", pool, 2000, makeRng("probe-nli-items:records"));
  for (const r of records.slice(0, 6)) console.log(`  ${JSON.stringify(r)}`);
  const cap = PROFILES.default.fieldTokenCap;
  const ft = await finetune({ base, task: "inference", method: "ft", records: { name: "probe:nli-items", records }, fieldTokenCap: cap, out, train: { lr: 1e-3, epochs: 2, seed: 0 } });
  console.log(`fine-tuned on ${ft.examples} examples, ${ft.result.steps} steps, ${Math.round(ft.result.seconds)} s`);
  console.log(await zeroShotLine(out, "inference", items, new ResultStore(path.join(out, "..", "results")), " on the probe's items"));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
