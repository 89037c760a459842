/**
 * The corpus stage of `npm run pretrain`:
 *   tsx scripts/lib/pretrain-corpus.ts [--out DIR] [--config FILE.json] [--vocab N] [--seed N] [--no-debian] [--force]
 * Installs the Debian packages its sources need (as root, with apt), makes sure the paper's data is
 * there, then builds the corpus folder (default .cache/pretrain/corpus): shards, held-out split,
 * contamination report, tokenizer and statistics. A folder that matches its inputs is kept as is.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureAptPackages, ensureData, SetupError } from "./setup";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { buildCorpus, DEFAULT_CORPUS_CONFIG, type CorpusConfig } from "../../kernel-lib/src/pretrain/corpus/corpus";
import { debianPackages, SOURCES, sourceSpec } from "../../kernel-lib/src/pretrain/sources/sources";

export async function pretrainCorpus(argv: string[] = process.argv.slice(2), overrides: Partial<CorpusConfig> = {}): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" }, config: { type: "string" }, vocab: { type: "string" }, seed: { type: "string" },
      "no-debian": { type: "boolean" }, force: { type: "boolean" },
    },
  });
  let config: CorpusConfig = { ...DEFAULT_CORPUS_CONFIG, ...overrides };
  if (values.config) {
    let extra: Partial<CorpusConfig>;
    try {
      extra = JSON.parse(fs.readFileSync(values.config, "utf8")) as Partial<CorpusConfig>;
    } catch (e) {
      throw new SetupError(`${values.config}: cannot read the corpus config (${(e as Error).message})`);
    }
    config = { ...config, ...extra };
  }
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new SetupError(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  config.vocabSize = int("vocab", values.vocab) ?? config.vocabSize;
  config.seed = int("seed", values.seed) ?? config.seed;
  if (values["no-debian"]) config.sources = config.sources.filter((id) => sourceSpec(id).origin !== "debian");

  const debs = debianPackages(config.sources);
  if (debs.length) {
    try {
      ensureAptPackages(Object.fromEntries(debs.map((p) => [p, ""])));
    } catch (e) {
      throw new SetupError(`${(e as Error).message}\n  (the corpus reads ${SOURCES.filter((s) => s.origin === "debian").map((s) => s.id).join(", ")} from Debian packages; --no-debian builds without them)`);
    }
  }
  await ensureData();
  const outDir = path.resolve(values.out ?? path.join(projectRoot(), ".cache", "pretrain", "corpus"));
  const r = buildCorpus({ outDir, config, force: values.force, log: console.log });
  const t = r.stats.totals.train;
  console.log(`corpus: ${t.docs} training documents, ${t.tokens.toLocaleString("en-US")} tokens${r.skipped ? " (up to date, not rebuilt)" : ""}; held out ${r.stats.totals.heldout.docs} documents; ${path.relative(process.cwd(), outDir)}`);
}

if (require.main === module) {
  pretrainCorpus().catch((e: Error) => {
    console.error(e instanceof SetupError ? e.message : e.message);
    process.exit(1);
  });
}
