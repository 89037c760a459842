import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";
import { openingCells, verdictIntro } from "./common";

writeNotebook(path.join(__dirname, "../../notebooks/04-train-size.ipynb"), [
  { md: `# 04 · How much training data?

**The paper's remarks.** The paper fine-tunes on 2,000, 4,000 and 6,000 training examples and reports
that more data does not always help: in-domain scores tend to rise with the train size, but out of
domain a larger train set can do worse, as the model specializes further on its one dataset.

- **S1** more training data helps in-domain;
- **S2** more training data does not *always* help out of domain (there is a test set where the larger
  train set scores lower).

**What we measure.** FT models of every task at each train-file size the profile lists (the paper's
larger files contain the smaller ones; a profile fine-tunes on its \`trainFraction\` of each file, so the
ratio of sizes is the paper's). The paper's repository has no 4,000- or 6,000-item XSum file, so
summarization has one size only. 0-shot, map 0, in-domain and out-of-domain.` },
  ...openingCells("trainSize"),
  { md: `## Score vs train size

Solid lines are in-domain test sets, dashed ones out-of-domain.` },
  { code: `for (const run of runs) {
  const mine = pooled.filter((r) => r.subject === run.subject.title);
  if (!mine.some((r) => r.method === "ft")) continue; // no fine-tuned model of this subject stored yet
  if (run.subject.profile.trainSizes.length < 2) {
    console.log(\`\${run.subject.title}: its profile fine-tunes at one train size (\${run.subject.profile.trainSizes.join(", ")}), so it has no train-size contrast\`);
    continue;
  }
  const sizeFig = ftgen.trainSizeChart(mine, { title: \`\${run.subject.title}: score vs train-file size\`, trainFraction: run.subject.profile.trainFraction });
  await ftgen.exportFigure(sizeFig, run.subject.id === "ftgen" ? "04-train-size" : \`04-train-size-\${run.subject.id}\`); // figures/04-train-size[-smollm2].png, .svg, .pdf
  await ftgen.showFigure(sizeFig);
  const sizes = ftgen.pivot(mine.filter((r) => r.method === "ft"), { rows: (r) => \`\${r.trainTask} → \${r.spec.dataset}\`, cols: (r) => \`\${r.trainSize} records\`, value: "score", title: "score" });
  ftgen.showTable(ftgen.toDataFrame(ftgen.pivotRows(sizes, "model → test set")), { caption: \`\${run.subject.title}: FT scores by train-file size (0-shot, map 0)\`, maxRows: 40, digits: 3 });
}` },
  { md: verdictIntro("S1 and S2 (S2 is judged set by set: one set with a significant drop is enough, after Holm's correction over the sets)") },
  { code: `const verdict = ftgen.showVerdictComparison(runs, ["S1", "S2"]);` },
]);
