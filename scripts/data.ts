/**
 * `npm run data [-- --mirror DIR] [--download]`: fetch the paper's data files (from a mirror folder,
 * FTGEN_DATA_MIRROR, or by download at the pinned commit), verify each git blob id, validate every
 * record against its task's schema, check the paper's task declarations against its prompt maps and
 * manifest, and print a table of what is there.
 */
import fs from "node:fs";
import path from "node:path";
import { ensureData, SetupError } from "./lib/setup";
import { parseCli, userPath } from "./lib/cli";
import { dataReport, formatDataReport } from "../kernel-lib/src/data/report";
import { diffPromptMaps } from "../kernel-lib/src/prompts/maps";
import { paperDeclarationProblems } from "../kernel-lib/src/data/files";
import { paperDataDir } from "../kernel-lib/src/util/paths";

async function main(): Promise<void> {
  const { values } = parseCli("npm run data", { options: { mirror: { type: "string" }, download: { type: "boolean" }, retry: { type: "boolean" }, quiet: { type: "boolean" } } });
  const results = await ensureData({ mirror: values.mirror === undefined ? undefined : userPath(values.mirror), download: values.download, retry: values.retry }, values.quiet ? () => {} : console.log);
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  console.log(`paper data in ${path.relative(process.cwd(), paperDataDir()) || "."}: ${count("cached")} cached, ${count("copied")} copied, ${count("downloaded")} downloaded, ${count("unavailable")} unavailable; every file's git blob id verified`);
  for (const r of results.filter((x) => x.status === "unavailable")) console.log(`  unavailable: ${r.entry.path} (${r.detail})`);

  const mapFile = path.join(paperDataDir(), "prompt_map.json");
  const problems = diffPromptMaps(JSON.parse(fs.readFileSync(mapFile, "utf8")));
  if (problems.length) throw new SetupError(`${mapFile}: the paper's prompt maps differ from kernel-lib's: ${problems.join("; ")}`);
  console.log("prompt maps: the paper's task declarations (declarations/tasks/) give its prompt_map.json's two maps exactly");
  const missing = paperDeclarationProblems();
  if (missing.length) throw new SetupError(`the paper's task declarations name files the manifest lacks: ${missing.join("; ")}`);
  console.log("datasets: every dataset the paper's task declarations name has its files in data/manifest.json");

  const rows = dataReport();
  console.log("\n" + formatDataReport(rows));
  const unl = rows.reduce((s, r) => s + r.unlabelled, 0);
  const empty = rows.reduce((s, r) => s + r.emptyText, 0);
  console.log(`\n${unl} rows labelled "-" and ${empty} rows with an empty text are kept out of training and scoring.`);
}

main().catch((e: Error) => {
  console.error(e instanceof SetupError || !e.stack ? e.message : e.message);
  process.exit(1);
});
