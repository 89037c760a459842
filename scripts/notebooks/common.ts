/**
 * Cells shared by the research notebooks (01–05): the opening cell (backend, profile, plan) and the
 * study run with its progress bar. Each make-NN script writes one notebook's source; `npm run study`
 * executes it.
 */
import type { CellSpec } from "../lib/notebook-json";

export function openingCells(study: string): CellSpec[] {
  return [
    { code: `import * as ftgen from "ftgen";
await ftgen.initBackend();
const prof = ftgen.profile();
const plan = ftgen.notebookPlan("${study}");
console.log(\`profile "\${prof.name}": \${prof.description}
\${plan.models.length} models (\${plan.models.filter((m) => m.id !== "base").length} fine-tuned on \${Math.round(prof.trainFraction * 100)}% of each train file, \${prof.epochs} epochs), \${plan.evals.length} evaluations of \${prof.testItems} test items each\`);` },
    { md: `## Run the study

One call fine-tunes every model this notebook needs from the shipped base model (\`data/base-model\`),
then scores each one. Everything is cached by content hash: a fine-tuned model under \`.cache/models\`,
each result record (score, bootstrap CI, per-item outputs) under \`results/\`. Rerunning after a kernel
restart only reads them back; changing a setting (the profile, the base model, a prompt) recomputes
exactly what it touches. Models shared with other notebooks are trained once.` },
    { code: `const records = await ftgen.runNotebookStudy("${study}");
ftgen.showTable(ftgen.toDataFrame(ftgen.recordRows(records)), { caption: \`\${records.length} records\`, maxRows: 12 });` },
  ];
}

export const verdictIntro = (claims: string): string => `## Verdict

For ${claims}: the measured effect, its 95% CI (a paired bootstrap over test items, stratified by
test set), and whether the paper's claim is **reproduced** (the CI lies wholly on the paper's side of
zero), **not reproduced** (wholly on the other side) or **inconclusive at this scale** (the CI contains
zero, or the effect is under one point of accuracy or ROUGE-L, too small to call). Keep the scale in mind: a base model of a few million parameters pretrained on a few million tokens, not
Llama-2-7B, and a scaled-down profile (see the first cell).`;
