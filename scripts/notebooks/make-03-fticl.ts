import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";
import { openingCells, verdictIntro } from "./common";

writeNotebook(path.join(__dirname, "../../notebooks/03-fticl.ipynb"), [
  { md: `# 03 · FTICL: fine-tuning with in-context examples

**The paper's claim (C6).** FTICL fine-tunes on training examples that each carry k demonstrations in
front (the first k of the in-domain few-shot file, in the training format; the loss is on the answer
only). For generation tasks this keeps more of the base model's general ability than plain FT does, so
FTICL models do better **out of domain**. For classification tasks the paper sees no such gain.

**What we measure.** For each task, the plain FT model and the FTICL model (the profile says which k:
the \`default\` profile trains the first k of the paper's list per task, \`paper\` trains both), on the
in-domain and out-of-domain test sets, 0-shot and with the k demonstrations FTICL was trained with,
in map 0 (the training format).` },
  ...openingCells("fticl"),
  { md: `## Generation tasks

FT and FTICL side by side on each test set, evaluated with and without the demonstrations. The claim
is about the out-of-domain sets (everything but xsum and socialqa).` },
  { code: `// k: the demonstrations an FTICL model was trained with (per task); FT is scored with the same k
const label = (r: ftgen.StudyRecord) => \`\${r.method === "ft" ? "FT" : prof.fticlShots === "paper" ? "FTICL k=" + r.method.slice(5) : "FTICL"} · \${r.spec.k === 0 ? "0" : "k"}-shot\`;
const kNote = (k: ftgen.TaskKind) => [\`k-shot: with the k demonstrations FTICL was trained with (\${ftgen.TASK_NAMES.filter((t) => ftgen.TASKS[t].kind === k).map((t) => \`\${t} \${[...new Set(pooled.filter((r) => r.trainTask === t && r.method !== "ft").map((r) => r.method.slice(5)))].join(", ")}\`).join("; ")}).\`];
const kind = (r: ftgen.StudyRecord) => ftgen.TASKS[r.spec.task].kind;
const genFig = ftgen.scoreBars(pooled.filter((r) => kind(r) === "generation"), { title: "Generation: FT vs FTICL (ROUGE-L), map 0", category: (r) => \`\${r.spec.dataset}\${r.scope === "in" ? " (in)" : ""}\`, series: label, notes: kNote("generation"), facet: subject });
await ftgen.exportFigure(genFig, "03-fticl-generation"); // figures/03-fticl-generation.png, .svg, .pdf
await ftgen.showFigure(genFig);` },
  { md: `## Classification tasks` },
  { code: `const clsFig = ftgen.scoreBars(pooled.filter((r) => kind(r) === "classification"), { title: "Classification: FT vs FTICL (accuracy), map 0", category: (r) => \`\${r.spec.dataset}\${r.scope === "in" ? " (in)" : ""}\`, series: label, notes: kNote("classification"), facet: subject });
await ftgen.exportFigure(clsFig, "03-fticl-classification"); // figures/03-fticl-classification.png, .svg, .pdf
await ftgen.showFigure(clsFig);` },
  { md: `## FTICL − FT, set by set

The difference on the same items, prompt and k. FTICL rows are evaluated at their own k and at 0-shot.` },
  { code: `const rows = pooled.filter((r) => r.method !== "ft").flatMap((r) => {
  const ft = pooled.find((f) => f.method === "ft" && f.subject === r.subject && f.trainTask === r.trainTask && f.spec.dataset === r.spec.dataset && f.spec.k === r.spec.k && f.spec.map === r.spec.map);
  return ft ? [{ subject: subject(r), task: r.trainTask as string, dataset: r.spec.dataset, scope: r.scope, model: r.method, k: r.spec.k, FT: ft.value, FTICL: r.value, "FTICL − FT": r.value - ft.value }] : [];
});
ftgen.showTable(ftgen.toDataFrame(rows), { caption: "FTICL − FT per test set and k (map 0)", maxRows: 40, digits: 3 });` },
  { md: verdictIntro("C6") },
  { code: `const verdict = ftgen.showVerdictComparison(runs, ["C6"]);` },
]);
