/**
 * Multitask documents from sources other than the paper's datasets. Pools of items per task kind
 * (see build*Items below for where each comes from), then documents of several demonstrations of
 * one kind in one random format (formats.ts). Everything is seeded.
 */
import type { Rng } from "../../util/random";
import { shuffled } from "../../util/random";
import { randomFormat, renderDocument, type MtItem, type MtKind } from "./formats";
import { lexiconPolarity } from "../sources/lexicon";
import { sentences, wordCount } from "../sources/text";
import { article, type Synset } from "../sources/wordnet";
import type { Verse } from "../sources/bible";
import type { CorpusDoc, DocKind } from "./types";

/** An item with the source it came from. */
export interface SourcedItem extends MtItem { source: string }

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Sentences of `texts` with between `min` and `max` words. */
export function candidateSentences(texts: Iterable<string>, min = 6, max = 35): string[] {
  const out: string[] = [];
  for (const t of texts) for (const p of t.split(/\n\s*\n/)) for (const s of sentences(p)) {
    const n = wordCount(s);
    if (n >= min && n <= max && /^[A-Z"“]/.test(s) && /[.!?"”]$/.test(s)) out.push(s);
  }
  return out;
}

/**
 * Sentiment items: labelled sentences (label 0 = positive, 1 = negative), plus corpus sentences
 * labelled by the lexicon (lexicon.ts), balanced by label.
 */
export function buildSentimentItems(labelled: ReadonlyArray<{ text: string; positive: boolean; source: string }>,
  corpusSentences: ReadonlyArray<{ text: string; source: string }>, lexicon: Readonly<Record<string, number>>, rng: Rng): SourcedItem[] {
  const pos: SourcedItem[] = [], neg: SourcedItem[] = [];
  for (const s of corpusSentences) {
    const p = lexiconPolarity(s.text, lexicon);
    if (p === "positive") pos.push({ fields: [s.text], label: 0, source: s.source });
    else if (p === "negative") neg.push({ fields: [s.text], label: 1, source: s.source });
  }
  const n = Math.min(pos.length, neg.length);
  const lex = [...shuffled(pos, rng).slice(0, n), ...shuffled(neg, rng).slice(0, n)];
  const lab = labelled.map((l) => ({ fields: [l.text], label: l.positive ? 0 : 1, source: l.source }));
  return [...lab, ...lex];
}

/** Swaps two different words (of 3+ letters) of a sentence: high word overlap, different meaning. */
export function swapWords(text: string, rng: Rng): string | null {
  const toks = text.split(" ");
  const idx = toks.map((t, i) => (/^[A-Za-z]{3,}$/.test(t) ? i : -1)).filter((i) => i >= 0);
  if (idx.length < 2) return null;
  for (let tries = 0; tries < 10; tries++) {
    const a = pick(rng, idx), b = pick(rng, idx);
    if (a !== b && toks[a].toLowerCase() !== toks[b].toLowerCase()) {
      const out = toks.slice();
      out[a] = toks[b]; out[b] = toks[a];
      return out.join(" ");
    }
  }
  return null;
}

/**
 * Paraphrase items (label 0 = same meaning, 1 = not): a KJV verse and the WEB's same verse; a KJV
 * verse and another verse of the same WEB chapter; a verse and the same verse with two words swapped;
 * two lemmas of one WordNet synset, and a lemma with a lemma of an unrelated synset.
 */
export function buildParaphraseItems(kjv: readonly Verse[], web: readonly Verse[], synsets: readonly Synset[], rng: Rng): SourcedItem[] {
  const out: SourcedItem[] = [];
  const webByRef = new Map(web.map((v) => [v.ref, v.text]));
  const chapterOf = (ref: string): string => ref.slice(0, ref.lastIndexOf(":"));
  const webChapters = new Map<string, string[]>();
  for (const v of web) {
    const c = chapterOf(v.ref);
    if (!webChapters.has(c)) webChapters.set(c, []);
    (webChapters.get(c) as string[]).push(v.ref);
  }
  const ok = (t: string): boolean => { const n = wordCount(t); return n >= 5 && n <= 40; };
  for (const v of kjv) {
    const w = webByRef.get(v.ref);
    if (!w || !ok(v.text) || !ok(w)) continue;
    const order = (a: string, b: string): string[] => (rng.next() < 0.5 ? [a, b] : [b, a]);
    const r = rng.next();
    if (r < 0.5) out.push({ fields: order(v.text, w), label: 0, source: "kjv+web" });
    else if (r < 0.75) {
      const refs = webChapters.get(chapterOf(v.ref)) ?? [];
      const other = refs.length > 1 ? pick(rng, refs.filter((x) => x !== v.ref)) : undefined;
      const ot = other ? webByRef.get(other) : undefined;
      if (ot && ok(ot)) out.push({ fields: order(v.text, ot), label: 1, source: "kjv+web" });
    } else {
      const sw = swapWords(w, rng);
      if (sw) out.push({ fields: rng.next() < 0.5 ? [w, sw] : [v.text, sw], label: 1, source: "kjv+web" });
    }
  }
  const multi = synsets.filter((s) => s.words.length >= 2 && s.words.every((x) => !/[A-Z]/.test(x)));
  const all = synsets.filter((s) => s.words.every((x) => !/[A-Z]/.test(x)));
  for (const s of multi) {
    const [a, b] = shuffled(s.words, rng);
    out.push({ fields: [a, b], label: 0, source: "wordnet" });
    const other = pick(rng, all);
    if (other.key !== s.key && other.pos === s.pos) out.push({ fields: [a, pick(rng, other.words)], label: 1, source: "wordnet" });
  }
  return out;
}

const NOUN_FRAMES = [
  "There is {x} in the picture.", "I saw {x} yesterday.", "She bought {x} at the market.", "The report mentions {x}.",
  "{X} was found near the old house.", "He talked about {x} for an hour.", "We noticed {x} on the way home.", "They want {x} for the museum.",
];
const THE_FRAMES = ["The thing on the table is {x}.", "What she is holding is {x}.", "The object in the box is {x}.", "The only item left in the shop is {x}."];
const ADJ_SUBJECTS = ["The room", "The answer", "Her voice", "The road", "The water", "His plan", "The market", "The story", "The weather", "The dog"];

function withArticle(lemma: string): string { return `${article(lemma)} ${lemma}`; }

function frame(t: string, x: string): string {
  return t.replace("{x}", x).replace("{X}", cap(x));
}

const AUX = /\b(is|was|are|were|will|can|could|would|should|has|have|had|must|may|might)\b/;

/** The sentence with "not" inserted after its first auxiliary verb (or an existing "not" removed); null if neither applies. */
export function negate(sentence: string): string | null {
  if (/\bnot\b/.test(sentence)) return sentence.replace(/\bnot\s+/, "");
  const m = AUX.exec(sentence);
  if (!m) return null;
  const at = m.index + m[0].length;
  return `${sentence.slice(0, at)} not${sentence.slice(at)}`;
}

export interface NliContext {
  synsets: ReadonlyMap<string, Synset>;
  /** Noun lemma → synset keys, most frequent sense first (WordNet index.noun). */
  nounIndex: ReadonlyMap<string, readonly string[]>;
  /** Verb lemmas (index.verb): words that are also verbs ("have", "work") are not substituted. */
  verbIndex?: ReadonlyMap<string, readonly string[]>;
}

function simpleLemma(w: string): boolean { return /^[a-z]+( [a-z]+)?$/.test(w); }

/**
 * NLI items (label 0 entailment, 1 neutral, 2 contradiction) from WordNet:
 * - nouns in a frame: hyponym → hypernym entails; hypernym → hyponym is neutral; a definite frame
 *   with two co-hyponyms contradicts;
 * - adjectives: a synonym entails, an antonym contradicts, an unrelated adjective is neutral;
 * - corpus sentences: a noun replaced by its hypernym entails, by a hyponym is neutral, and the
 *   sentence negated ("not" after the first auxiliary) contradicts.
 */
export function buildNliItems(ctx: NliContext, corpusSentences: ReadonlyArray<{ text: string; source: string }>, rng: Rng, perSource = 20000): SourcedItem[] {
  const out: SourcedItem[] = [];
  const { synsets, nounIndex } = ctx;
  const hypernymOf = (s: Synset): Synset | undefined => {
    const p = s.pointers.find((x) => x.symbol === "@");
    return p ? synsets.get(p.target) : undefined;
  };
  const hyponymsOf = (s: Synset): Synset[] => s.pointers.filter((x) => x.symbol === "~").map((x) => synsets.get(x.target)).filter((x): x is Synset => !!x);
  const nouns = [...synsets.values()].filter((s) => s.pos === "n" && simpleLemma(s.words[0]));
  const adjs = [...synsets.values()].filter((s) => s.pos === "a" && simpleLemma(s.words[0]));
  // nouns in frames
  for (const s of shuffled(nouns, rng).slice(0, perSource)) {
    const h = hypernymOf(s);
    if (!h || !simpleLemma(h.words[0])) continue;
    const f = pick(rng, NOUN_FRAMES);
    const r = rng.next();
    if (r < 0.4) out.push({ fields: [frame(f, withArticle(s.words[0])), frame(f, withArticle(h.words[0]))], label: 0, source: "wordnet" });
    else if (r < 0.7) out.push({ fields: [frame(f, withArticle(h.words[0])), frame(f, withArticle(s.words[0]))], label: 1, source: "wordnet" });
    else {
      const sib = hyponymsOf(h).filter((x) => x.key !== s.key && simpleLemma(x.words[0]));
      if (sib.length === 0) continue;
      const t = pick(rng, THE_FRAMES);
      out.push({ fields: [frame(t, withArticle(s.words[0])), frame(t, withArticle(pick(rng, sib).words[0]))], label: 2, source: "wordnet" });
    }
  }
  // adjectives
  for (const s of shuffled(adjs, rng).slice(0, perSource)) {
    const subj = pick(rng, ADJ_SUBJECTS);
    const verb = rng.next() < 0.5 ? "is" : "was";
    const say = (a: string): string => `${subj} ${verb} ${a}.`;
    const ant = s.pointers.find((p) => p.symbol === "!");
    const antSyn = ant ? synsets.get(ant.target) : undefined;
    const r = rng.next();
    if (r < 0.35 && antSyn) {
      const w = antSyn.words[Math.max(0, ant!.targetWord - 1)] ?? antSyn.words[0];
      if (simpleLemma(w)) out.push({ fields: [say(s.words[0]), say(w)], label: 2, source: "wordnet" });
    } else if (r < 0.7 && s.words.length >= 2 && simpleLemma(s.words[1])) {
      out.push({ fields: [say(s.words[0]), say(s.words[1])], label: 0, source: "wordnet" });
    } else {
      const o = pick(rng, adjs);
      if (o.key !== s.key) out.push({ fields: [say(s.words[0]), say(o.words[0])], label: 1, source: "wordnet" });
    }
  }
  // corpus sentences
  let made = 0;
  for (const cs of shuffled(corpusSentences, rng)) {
    if (made >= perSource) break;
    const words = cs.text.split(" ");
    const r = rng.next();
    if (r < 1 / 3) {
      const neg = negate(cs.text);
      if (!neg) continue;
      out.push({ fields: [cs.text, neg], label: 2, source: cs.source });
      made++;
      continue;
    }
    const spots = words.map((w, i) => (/^[a-z]{3,}$/.test(w) && nounIndex.has(w) && !ctx.verbIndex?.has(w) ? i : -1)).filter((i) => i >= 0);
    if (spots.length === 0) continue;
    const i = pick(rng, spots);
    const s = synsets.get((nounIndex.get(words[i]) as readonly string[])[0]);
    if (!s) continue;
    if (r < 2 / 3) {
      const h = hypernymOf(s);
      const w = h?.words.find((x) => /^[a-z]+$/.test(x) && x !== words[i]);
      if (!w) continue;
      const hyp = words.slice(); hyp[i] = w;
      out.push({ fields: [cs.text, hyp.join(" ")], label: 0, source: cs.source });
    } else {
      const hs = hyponymsOf(s).map((x) => x.words[0]).filter((x) => /^[a-z]+$/.test(x));
      if (hs.length === 0) continue;
      const hyp = words.slice(); hyp[i] = pick(rng, hs);
      out.push({ fields: [cs.text, hyp.join(" ")], label: 1, source: cs.source });
    }
    made++;
  }
  return out;
}

/**
 * Summary items: an e-mail body → its subject; a run of 4–8 sentences → its first sentence (the
 * input is the run without that sentence, as XSum-style lead prediction).
 */
export function buildSummaryItems(emails: ReadonlyArray<{ subject: string; body: string }>, texts: ReadonlyArray<{ text: string; source: string }>, rng: Rng, perSource = 20000): SourcedItem[] {
  const out: SourcedItem[] = [];
  for (const e of emails) {
    const n = wordCount(e.body), m = wordCount(e.subject);
    if (n < 30 || n > 250 || m < 3 || m > 15 || e.subject.toUpperCase() === e.subject) continue;
    out.push({ fields: [e.body.replace(/\n+/g, " ")], target: e.subject, source: "spam-assassin" });
  }
  let made = 0;
  for (const t of shuffled(texts, rng)) {
    if (made >= perSource) break;
    const ss = sentences(t.text.replace(/\n+/g, " "));
    if (ss.length < 5) continue;
    const len = 4 + rng.int(5);
    const start = rng.int(Math.max(1, ss.length - len));
    const run = ss.slice(start, start + len);
    if (run.length < 4 || wordCount(run[0]) < 6 || wordCount(run[0]) > 40) continue;
    out.push({ fields: [run.slice(1).join(" ")], target: run[0], source: t.source });
    made++;
  }
  return out;
}

/**
 * Question items from WordNet (context + answer → question): "What is a X?" for its definition,
 * "What do you call …?" for the word, "What kind of thing is a X?" for its hypernym, and
 * "Which word means …?" for a word in an example sentence.
 */
export function buildQuestionItems(synsets: ReadonlyMap<string, Synset>, rng: Rng): SourcedItem[] {
  const out: SourcedItem[] = [];
  for (const s of synsets.values()) {
    const w = s.words[0];
    if (!simpleLemma(w) || s.definition.length < 10) continue;
    const def = s.definition;
    const r = rng.next();
    if (s.pos === "n") {
      const h = s.pointers.find((p) => p.symbol === "@");
      const hs = h ? synsets.get(h.target) : undefined;
      const ctx = `${cap(withArticle(w))} is ${hs ? `${withArticle(hs.words[0])}: ` : ""}${def}.`;
      if (r < 0.4) out.push({ fields: [ctx, def], target: `What is ${withArticle(w)}?`, source: "wordnet" });
      else if (r < 0.7) out.push({ fields: [ctx, w], target: pick(rng, [`What do you call ${def}?`, `What is the word for ${def}?`]), source: "wordnet" });
      else if (hs && simpleLemma(hs.words[0])) out.push({ fields: [ctx, hs.words[0]], target: `What kind of thing is ${withArticle(w)}?`, source: "wordnet" });
    } else if (s.examples.length > 0) {
      const ex = s.examples.find((e) => e.toLowerCase().includes(w));
      if (ex) out.push({ fields: [`"${cap(ex)}." Here "${w}" means ${def}.`, w], target: `Which word in the sentence means ${def}?`, source: "wordnet" });
      else if (s.pos === "v") out.push({ fields: [`To ${w} is to ${def}.`, def], target: `What does it mean to ${w}?`, source: "wordnet" });
    }
  }
  return out;
}

export interface MultitaskOptions {
  /** Documents to make. */
  docs: number;
  /** Demonstrations a document: at least min, at most max (fewer when `maxChars` is reached, never fewer than 2). */
  minDemos: number;
  maxDemos: number;
  maxChars: number;
  /** Share of classification documents that use the paper's label words (0: drawn like any other set). */
  paperLabelShare?: number;
}

const DOC_KIND: Record<MtKind, DocKind> = {
  sentiment: "mt-sentiment", paraphrase: "mt-paraphrase", nli: "mt-nli", summary: "mt-summary", question: "mt-question",
};

/**
 * Documents of one kind. Classification documents draw the label of each demonstration uniformly
 * (then an item with that label), so no label dominates a document by construction. A document's
 * source is the source of most of its items.
 */
export function makeMultitaskDocs(kind: MtKind, items: readonly SourcedItem[], opts: MultitaskOptions, rng: Rng): CorpusDoc[] {
  if (items.length === 0 || opts.docs === 0) return [];
  const byLabel = new Map<number, SourcedItem[]>();
  for (const it of items) if (it.label !== undefined) {
    if (!byLabel.has(it.label)) byLabel.set(it.label, []);
    (byLabel.get(it.label) as SourcedItem[]).push(it);
  }
  const labels = [...byLabel.keys()].sort((a, b) => a - b);
  const bySource = new Map<string, SourcedItem[]>();
  for (const it of items) {
    if (!bySource.has(it.source)) bySource.set(it.source, []);
    (bySource.get(it.source) as SourcedItem[]).push(it);
  }
  const sources = [...bySource.keys()].sort();
  const splitByLabel = new Map(sources.map((s) => [s, labels.map((l) => (bySource.get(s) as SourcedItem[]).filter((it) => it.label === l)).filter((p) => p.length > 0)]));
  const longBySource = new Map(sources.map((s) => [s, (bySource.get(s) as SourcedItem[]).some((it) => it.fields.some((f) => f.length > 300))]));
  const docs: CorpusDoc[] = [];
  for (let d = 0; d < opts.docs; d++) {
    // one source a document (so that a document is homogeneous), chosen in proportion to its items
    let r = rng.int(items.length), src = sources[0];
    for (const s of sources) { const n = (bySource.get(s) as SourcedItem[]).length; if (r < n) { src = s; break; } r -= n; }
    const pool = bySource.get(src) as SourcedItem[];
    const usable = splitByLabel.get(src) as SourcedItem[][];
    const fmt = randomFormat(kind, rng, { longInputs: longBySource.get(src), paperLabelShare: opts.paperLabelShare });
    const want = opts.minDemos + rng.int(opts.maxDemos - opts.minDemos + 1);
    const chosen: SourcedItem[] = [];
    let chars = 0;
    for (let k = 0; k < want; k++) {
      let it: SourcedItem;
      it = usable.length ? pick(rng, pick(rng, usable)) : pick(rng, pool);
      const len = it.fields.reduce((a, f) => a + f.length, 0) + (it.target?.length ?? 0);
      if (chosen.length >= 2 && chars + len > opts.maxChars) break;
      chosen.push(it); chars += len;
    }
    docs.push({ source: src, kind: DOC_KIND[kind], text: renderDocument(fmt, chosen) });
  }
  return docs;
}
