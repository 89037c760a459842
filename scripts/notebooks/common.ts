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

One call scores every model this notebook needs, fine-tuning from the shipped base model
(\`data/base-model\`) only the models whose records are missing. A fine-tuned model and its records
are keyed by what decides them (the base weights' hash, the recipe, the seed, the data files' blob
ids, the code version), so a fresh clone with the committed \`results/\` trains nothing and shows the
committed numbers; a changed setting recomputes exactly what it touches. Each fine-tuned model is
trained with several seeds (see the first cell), and every CI below counts the seed-to-seed spread.
\`npm run study -- --recompute\` trains everything again beside the stored records and reports how far
the numbers move (bit-identical on the machine and thread count that made them; on another CPU the
weights differ in the last bits).` },
    { code: `const records = await ftgen.runNotebookStudy("${study}");
ftgen.showTable(ftgen.toDataFrame(ftgen.recordRows(records)), { caption: \`\${records.length} records\`, maxRows: 12 });
// Plots and tables read each fine-tuned model as the mean over its seeds (CI over seeds and items); verdicts use every record.
const pooled = ftgen.poolSeeds(records);` },
  ];
}

export const verdictIntro = (claims: string): string => `## Verdict

For ${claims}: the measured effect and its 95% CI, from a bootstrap that resamples the fine-tuning
seeds and the test items (paired across the models compared). A claim is **reproduced** when the CI
lies wholly on the paper's side of zero, **not reproduced** when it lies wholly on the other side, and
**inconclusive at this scale** when it contains zero or the effect is under one point (too small to
call). Verdicts are judged on what a constant answer cannot win: classification sets in **balanced
accuracy** (always answering one label gets 1/labels), with plain accuracy and a prior-corrected
accuracy beside; generation sets in ROUGE-L. A cell where some model answers one label for at least
90% of the items is counted and flagged, and the verdict is given again without such cells. The second
table breaks each claim down by fine-tuning task. Keep the scale in mind: a base model of a few million
parameters pretrained on a few million tokens, not Llama-2-7B, and a scaled-down profile (see the
first cell).`;
