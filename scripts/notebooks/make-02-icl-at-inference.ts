import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";
import { openingCells, verdictIntro } from "./common";

writeNotebook(path.join(__dirname, "../../notebooks/02-icl-at-inference.ipynb"), [
  { md: `# 02 · In-context examples at inference

**The paper's claim (C5).** Putting k demonstrations in front of a test item (in-context learning, ICL)
helps the base model much more than it helps fine-tuned models. A fine-tuned model has already learnt
the task's format and labels from thousands of examples, so a few more in the prompt add little, and
can even distract it.

**What we measure.** The base model and the five FT models on each task's in-domain and out-of-domain
test sets, at every k of the paper's shot lists (0, 1, 2, 4 for generation; 0, 2, 4, 6 for sentiment
and paraphrase; 0, 3, 5, 7 for NLI), in both prompt maps. Demonstrations are the first k items of the
test set's own few-shot file, the same for every item, as in the paper. An FT model is scored on its
own task's sets only (cross-task ICL is not part of this claim).` },
  ...openingCells("icl"),
  { md: `## Score vs k, in-domain

One panel per task: the base model (blue) and that task's FT model (red), map 0 solid and map 1 dotted,
with 95% CIs. The paper's picture: the blue lines rise with k, the red ones stay flat (and high).` },
  { code: `const panels = ftgen.scoreVsKPanels(records, { title: "In-domain score vs k: base (blue) and FT (red); map 0 solid, map 1 dotted" });
await ftgen.exportFigure(panels, "02-score-vs-k"); // figures/02-score-vs-k.png, .svg, .pdf
await ftgen.showFigure(panels);` },
  { md: `## The gain from demonstrations, on every test set

For each model and test set: the mean score over the k > 0 of the shot list minus the 0-shot score
(map 0). Bars above zero mean the demonstrations helped.` },
  { code: `const gains = ftgen.iclGains(records).filter((g) => g.map === 0);
const gainFig = ftgen.barChart({
  title: "ICL gain (mean over k > 0 − 0-shot), map 0", categories: [...new Set(gains.map((g) => g.dataset))], yTitle: "gain",
  series: ["base", "ft"].map((m) => ({ name: m === "base" ? "base" : "FT (own task)", y: [...new Set(gains.map((g) => g.dataset))].map((d) => gains.find((g) => g.method === m && g.dataset === d)?.gain ?? NaN) })),
});
await ftgen.exportFigure(gainFig, "02-icl-gain"); // figures/02-icl-gain.png, .svg, .pdf
await ftgen.showFigure(gainFig);
ftgen.showTable(ftgen.toDataFrame(ftgen.iclGains(records).map((g) => ({ model: g.model, dataset: g.dataset, map: g.map, "0-shot": g.zeroShot, "mean k-shot": g.kShotMean, gain: g.gain }))), { caption: "ICL gain per model, test set and map", maxRows: 40, digits: 3 });` },
  { md: verdictIntro("C5") },
  { code: `const verdict = ftgen.showVerdicts(records, ["C5"]);` },
]);
