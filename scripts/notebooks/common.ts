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
// Two subjects side by side: ftgen's own small base model, and SmolLM2-135M, a real pretrained LLM.
for (const s of ftgen.subjects()) {
  const p = s.profile, plan = ftgen.notebookPlan("${study}", p);
  console.log(\`\${s.title}, profile "\${p.name}": \${p.description}
  \${plan.models.length} models (\${plan.models.filter((m) => m.id !== "base").length} fine-tuned on \${Math.round(p.trainFraction * 100)}% of each train file, \${p.epochs} \${p.epochs === 1 ? "epoch" : "epochs"}\${p.tuning ? (p.tuning === "lora" ? ", LoRA" : ", full fine-tuning") : ""}), \${plan.evals.length} evaluations of \${p.testItems} test items each\${s.compute ? "" : " (read from the stored records)"}\`);
}` },
    { md: `## Run the study

One call scores every model this notebook needs, for each subject: **ftgen's base model** (a few million
parameters, pretrained here, \`data/base-model\`) and **SmolLM2-135M** (a real pretrained LLM, fine-tuned
with LoRA, and fully for each task's in-domain model). A fine-tuned model and its records are keyed by
what decides them (the base weights' hash, the recipe, the seed, the data files' blob ids, the code
version), so a fresh clone with the committed \`results/\` trains nothing and shows the committed
numbers; a changed setting recomputes exactly what it touches. The active profile's subject computes
what is missing; SmolLM2's study takes hours of CPU, so it is computed apart
(\`npm run study -- --profile smollm2 --shard 0/1\`, or in shards on a cluster with
\`npm run study:slurm\`) and read here from its records. Each fine-tuned model is trained with several
seeds, and every CI below counts the seed-to-seed spread.` },
    { code: `const runs = await ftgen.runSubjects("${study}");
const records = runs.flatMap((r) => r.records); // each record names its subject
ftgen.showTable(ftgen.toDataFrame(ftgen.recordRows(records)), { caption: \`\${records.length} records\`, maxRows: 12 });
// Plots and tables read each fine-tuned model as the mean over its seeds (CI over seeds and items), subject by
// subject, and only for a subject whose study is complete (part of a study could read as a finding); verdicts use every record.
const pooled = runs.filter((r) => r.missing === 0).flatMap((r) => ftgen.poolSeeds(r.records));
const subject = (r: ftgen.StudyRecord) => r.subject ?? "";` },
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
table breaks each claim down by fine-tuning task. Keep the scale in mind: neither subject is Llama-2-7B (ftgen's base has a few million parameters
pretrained on a few million tokens; SmolLM2 has 135 million, pretrained on trillions), and both
profiles are scaled down (see the first cell). The first table gives each subject's verdict side by
side, the line under it says where they agree, and each subject's full table follows.`;
