import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";
import { openingCells, verdictIntro } from "./common";

writeNotebook(path.join(__dirname, "../../notebooks/05-prompt-format.ipynb"), [
  { md: `# 05 · Prompt format: map 0 vs map 1

**The paper's remark (P1).** Every evaluation runs with two prompt maps: map 0, the training format
(\`### Input:\` … \`### Sentiment:\`), and map 1, natural-language instructions. The paper notes that in
cross-task tests the prompt decides a lot: models fine-tuned on *generation* tasks, tested on
*classification* tasks, respond quite differently once the prompt changes.

**What we measure.** The records of notebook 01 (same models, same items: nothing is recomputed), read
the other way: for every model and test set, the 0-shot score under map 1 minus the score under map 0.
P1 is measured on the generation-FT models' classification test sets, with map 1 − map 0 as the effect.` },
  ...openingCells("generalization"),
  { md: `## Map 1 − map 0, every model and test set

Blue where the natural-language prompt scores higher, red where the training format does. The base
model's row shows how much the wording matters before any fine-tuning.` },
  { code: `const columns = ftgen.TASK_NAMES.flatMap((t) => ftgen.testSets(t));
for (const run of runs) {
  const mine = pooled.filter((r) => r.subject === run.subject.title && r.method !== "ft-full");
  if (!mine.some((r) => r.method !== "base")) continue; // no fine-tuned model of this subject stored yet
  const pv = ftgen.mapDeltaPivot(mine, { cols: columns, blank: "not tested (a model meets other tasks on their in-domain sets only)" });
  const mapFig = ftgen.deltaHeatmap({ ...pv, title: \`\${run.subject.title}: \${pv.title}\` }, { modelTitle: "model (base, or fine-tuned on)" });
  await ftgen.exportFigure(mapFig, run.subject.id === "ftgen" ? "05-map-delta" : \`05-map-delta-\${run.subject.id}\`); // figures/05-map-delta[-smollm2].png, .svg, .pdf
  await ftgen.showFigure(mapFig);
}` },
  { md: `## Generation-FT models on classification tasks

The cells of P1, with both maps' scores side by side.` },
  { code: `const p1 = pooled.filter((r) => r.spec.k === 0 && r.method === "ft" && ftgen.TASKS[r.trainTask as ftgen.TaskName].kind === "generation" && ftgen.TASKS[r.spec.task].kind === "classification");
const p1Fig = ftgen.scoreBars(p1, { facet: subject, title: "Generation-FT models on classification sets: map 0 vs map 1 (accuracy)", category: (r) => \`\${r.trainTask} → \${r.spec.dataset}\`, series: (r) => \`map \${r.spec.map}\` });
await ftgen.exportFigure(p1Fig, "05-generation-ft-on-classification"); // figures/05-generation-ft-on-classification.png, .svg, .pdf
await ftgen.showFigure(p1Fig);` },
  { md: verdictIntro("P1") },
  { code: `const verdict = ftgen.showVerdictComparison(runs, ["P1"]);` },
]);
