import path from "node:path";
import { writeNotebook } from "../lib/notebook-json";

writeNotebook(path.join(__dirname, "../../notebooks/00-base-model.ipynb"), [
  { md: `# 00 · The base model

The paper starts from **Llama-2**: a model pretrained on a web-scale corpus, with general language
ability and the ability to learn from in-context examples. Everything the paper measures is a change
relative to that starting point: does fine-tuning keep, gain or lose ability out of domain and across
tasks, with and without demonstrations?

Nobody can download Llama-2 here, and a teacher should not need to. So ftgen ships its own base model,
pretrained **from scratch by our own recipe on open corpora** (config \`data/base-model.config.json\`):
a small Llama-architecture decoder (RMSNorm, rotary embeddings, SwiGLU, tied head) that runs on a
laptop CPU. The shipped weights were trained on a GPU by the recipe's PyTorch twin
(\`npm run pretrain:gpu\`, 261M tokens in 5.5 minutes on one H100); \`npm run pretrain\` trains the same
recipe with ftgen's own tfjs loop on any machine, and \`experiments/pretrain/\` holds the recipes
a 2-core CPU trains in under an hour. This notebook shows what the model is, what it was trained on,
and whether it can do what the study needs of a base model: **learn from demonstrations**.` },
  { code: `import * as ftgen from "ftgen";
import fs from "node:fs";
import path from "node:path";
await ftgen.initBackend();
const prof = ftgen.profile();
const baseDir = ftgen.baseModelDir(); // data/base-model, or FTGEN_BASE_MODEL
const card: ftgen.ModelCard = JSON.parse(fs.readFileSync(path.join(baseDir, "model-card.json"), "utf8"));
console.log(\`profile "\${prof.name}" · \${card.name}: \${(card.parameters / 1e6).toFixed(2)}M parameters, \${card.status}\`);` },
  { md: `## What it is and how it was trained

The model card (\`data/base-model/MODEL_CARD.md\`) is written at export time, with the held-out loss
computed by kernel-lib whichever trainer ran. The numbers below are read from its JSON twin.

How much the amount of pretraining matters (\`experiments/pretrain/README.md\`, experiments 4 and 7):
the same model and corpus trained on 7.9M tokens (about 50 minutes on 2 CPU cores) reach 1.253 nats per
character on held-out text and answer sentiment below the majority baseline; on 261M tokens they reach
0.948 nats per character, and sentiment 0-shot rises to about 0.66.` },
  { code: `const a = card.architecture, t = card.training, r = card.recipe.config.train;
ftgen.showTable(ftgen.toDataFrame([
  { item: "architecture", value: \`\${a.num_hidden_layers} layers · width \${a.hidden_size} · \${a.num_attention_heads} heads · MLP \${a.intermediate_size} · vocab \${a.vocab_size}\` },
  { item: "parameters", value: card.parameters.toLocaleString("en-US") },
  { item: "context trained", value: \`\${r.seqLen} tokens\` },
  { item: "tokens seen", value: \`\${t.tokensSeen.toLocaleString("en-US")} (\${t.epochs.toFixed(2)} epochs of the corpus)\` },
  { item: "steps", value: \`\${t.steps} of \${t.totalSteps}, batch \${r.batchSize} × \${r.seqLen}\` },
  { item: "final train loss", value: t.finalLossMean100.toFixed(3) + " (mean of the last 100 steps)" },
  { item: "held-out loss", value: \`\${card.heldout.all.loss.toFixed(3)} (perplexity \${card.heldout.all.perplexity.toFixed(1)})\` },
  { item: "training time", value: \`\${(t.trainSeconds / 60).toFixed(1)} min over \${t.invocations.length} invocation(s) on \${card.machine.gpu ?? \`\${card.machine.cpus} × \${card.machine.cpuModel}\`}\` },
  ...(card.trainer ? [{ item: "trainer", value: \`\${card.trainer.script} (PyTorch \${card.trainer.torch}); \${card.trainer.sampling}\` }] : []),
  { item: "backend", value: card.backend },
]), { caption: "The shipped base model" });` },
  { md: `## The corpus

Three parts, all from packages anyone can install (their licences are in the card):
- **general English text**: State of the Union addresses, the Brown corpus, Moby Dick, e-mails, WordNet
  glosses, the GCIDE dictionary and the King James Bible;
- **the input texts of the paper's training splits** (never their outputs or labels, and nothing from a
  test or few-shot file; train items that share a 13-gram with any test or few-shot file were left out);
- **multitask documents** from *other* sources: several demonstrations of one task kind (sentiment,
  paraphrase, NLI, summary, question) in varied formats. A web-pretrained LLM has met such patterns;
  ours meets them here, so that "continue the pattern of demonstrations" is learnable, while the
  paper's exact templates and datasets stay unseen.` },
  { code: `const kinds = Object.entries(card.corpus.byKind).map(([kind, v]) => ({ kind, documents: v.docs, tokens: v.tokens, share: v.tokens / card.corpus.trainTokens }));
ftgen.showTable(ftgen.toDataFrame(kinds), { caption: \`Training tokens by kind (\${card.corpus.trainTokens.toLocaleString("en-US")} in all)\` });
ftgen.showTable(ftgen.toDataFrame(card.corpus.sources.map((s) => ({ source: s.title, package: s.package, licence: s.licence, documents: s.docs, tokens: s.tokens }))), { caption: "By source" });` },
  { md: `## The loss curve` },
  { code: `const curve = JSON.parse(fs.readFileSync(path.join(baseDir, "loss-curve.json"), "utf8"));
// A column wide, at print size (ftgen.panelFigure: the layout every exported figure shares)
const lossFig = ftgen.panelFigure([{
  traces: [{ type: "scatter", mode: "lines", name: "train loss", showlegend: false, x: curve.tokens.map((x: number) => x / 1e6), y: curve.loss, line: { width: 1.2, color: ftgen.PALETTE[0] } }],
  xTitle: "tokens seen (millions)", yTitle: "cross-entropy (nats/token)", yaxis: { rangemode: "tozero" },
}], { title: "Pretraining loss", width: "column", panelHeight: 170 });
await ftgen.showFigure(lossFig);
const exported = await ftgen.exportFigure(lossFig, "00-base-loss-curve"); // figures/00-base-loss-curve.png, .svg, .pdf (a declaration: the cell prints no paths of this machine)` },
  { md: `## Held-out perplexity

Measured at export on documents kept out of training: 1% of the general and multitask documents, and
200 training *inputs* of each studied dataset. Lower is better; the domains the study fine-tunes on
are the \`paper:\` rows.` },
  { code: `const rows = Object.entries({ ...card.heldout.byKind, ...Object.fromEntries(Object.entries(card.heldout.bySource).filter(([k]) => k.startsWith("paper:"))) })
  .map(([set, s]) => ({ set, documents: s.docs, tokens: s.tokens, loss: +s.loss.toFixed(3), perplexity: +s.perplexity.toFixed(1) }));
ftgen.showTable(ftgen.toDataFrame(rows), { caption: "Held-out loss and perplexity" });
await ftgen.showFigure(ftgen.barChart({ title: "Held-out perplexity", categories: rows.map((r) => r.set), series: [{ name: "perplexity", y: rows.map((r) => r.perplexity) }], yTitle: "perplexity" }));` },
  { md: `## Sample continuations

Greedy continuations (at most 40 tokens) of a few prompts: general text, and a prompt in the paper's
own format, which the model never saw in pretraining.` },
  { code: `// The fastest engine here (onnxruntime when it loads, else tfjs); both give the same scores.
const lm = await ftgen.loadCausalLM(baseDir);
const modelKey = ftgen.folderHash(baseDir);
async function continuations(prompts: string[]) {
  const ids = prompts.map((p) => ftgen.promptIds(lm.tokenizer, p));
  const outs = await lm.generate(ids, 40);
  return prompts.map((p, i) => ({ prompt: p, continuation: lm.tokenizer.decode(outs[i]) }));
}
const amazon = ftgen.loadDataset("sentiment", "amazon", "test", { limit: 1 }).records[0];
ftgen.showTable(ftgen.toDataFrame(await continuations([
  "The President said that the nation",
  "Call me Ishmael. Some years ago",
  "A dog is a",
  ftgen.kShotPrompt("sentiment", "amazon", amazon, 2, 0),
])), { caption: "Greedy continuations" });` },
  { md: `## The answer boundary

The paper writes each answer straight after its template's colon: a demonstration reads
\`### Sentiment:positive\`. The model reads a demonstration, like its pretraining text, as one string;
but it is *scored* from the prompt alone, which ends at the colon, with the label tokenized on its own.
Where the tokenizer cuts \`prompt + answer\` differently from \`prompt\` then \`answer\`, the model is
asked for a token it never saw at that place, and demonstrations cannot show it the answer's form.

A Llama-3-style pre-tokenizer joins one punctuation mark to the word after it, so \`:positive\` is one
piece: every map-0 prompt disagrees. A GPT-2-style one keeps the colon apart; only a prompt that ends in
a space (map 1's inference, \`The relation is \`) still disagrees, as with most BPE tokenizers. The
table lists the shipped tokenizer's disagreements (\`answerBoundaryMismatches\`, checked for every
task, map and label; a sample sentence for generation tasks).` },
  { code: `const boundary = ftgen.answerBoundaryMismatches(lm.tokenizer);
const pre = card.corpus.tokenizerPretokenizer ?? "llama3";
if (boundary.length === 0) ftgen.showText(\`\${pre} pre-tokenizer: every prompt of both maps tokenizes as a prefix of prompt + answer.\`, "Answer boundary");
else ftgen.showTable(ftgen.toDataFrame(boundary.map((m) => ({ map: m.map, task: m.task, answer: m.answer,
  "prompt end, then answer, tokenized apart": m.apart.map((p) => JSON.stringify(p)).join(" "),
  "tokenized together": m.together.map((p) => JSON.stringify(p)).join(" ") }))),
  { caption: \`\${pre} pre-tokenizer: \${boundary.length} answer boundaries tokenize differently apart and together\` });` },
  { md: `## Can it learn from demonstrations?

The study's question "does fine-tuning change the benefit of in-context examples?" needs a base model
that benefits from them in the first place. Here is the base model on the **in-domain test set of all
five tasks**, at every k of the paper's shot lists, in both prompt maps, scored exactly as the paper
scores: classification by the label-restricted first-token logits, generation by ROUGE-L after greedy
decoding cut at the first blank line. Whiskers are 95% bootstrap CIs. Results are cached by content
hash under \`results/\`: a rerun reuses them.` },
  { code: `const bar = ftgen.progressBar("ICL grid", { unit: "evaluation" });
const grid = await ftgen.iclGrid(lm, modelKey, {
  limit: prof.testItems, fieldTokenCap: prof.fieldTokenCap, batchSize: 16,
  onProgress: (done, total, r) => bar.update(done, total, \`\${r.spec.task} map \${r.spec.map} k=\${r.spec.k}: \${r.value.toFixed(3)}\${r.cached ? " (cached)" : ""}\`),
});
bar.finish();
ftgen.showTable(ftgen.toDataFrame(grid.map((r) => ({ task: r.spec.task, dataset: r.spec.dataset, map: r.spec.map, k: r.spec.k, metric: r.metric,
  score: +r.value.toFixed(3), "95% CI": \`[\${r.ci.low.toFixed(3)}, \${r.ci.high.toFixed(3)}]\`, n: r.n, truncated: r.truncatedPrompts }))), { maxRows: 60, caption: "Base model, in-domain, by k and map" });` },
  { code: `const clsFig = ftgen.scoreVsKChart(grid.filter((r) => ftgen.TASKS[r.spec.task].kind === "classification"), "Classification: accuracy vs k (base model)");
const genFig = ftgen.scoreVsKChart(grid.filter((r) => ftgen.TASKS[r.spec.task].kind === "generation"), "Generation: ROUGE-L vs k (base model)");
await ftgen.showFigure(clsFig);
await ftgen.showFigure(genFig);
// PNG, SVG and PDF for writeups, in figures/
for (const [fig, name] of [[clsFig, "00-base-icl-classification"], [genFig, "00-base-icl-generation"]] as const) await ftgen.exportFigure(fig, name);` },
  { md: `## Verdict

The bar a base model must clear for the study to have an answer (issue 4): **k-shot beats 0-shot with
non-overlapping CIs on at least 3 of the 5 tasks**, and **0-shot is above the majority baseline on at
least 2 of the 3 classification tasks**. The table below is computed from the numbers above (map 0,
the paper's main prompt format; map 1 alongside).` },
  { code: `const checks = ftgen.iclChecks(grid);
ftgen.showTable(ftgen.toDataFrame(checks.map((c) => ({ task: c.task, map: c.map,
  "0-shot": \`\${c.zeroShot.value.toFixed(3)} [\${c.zeroShot.ci.low.toFixed(3)}, \${c.zeroShot.ci.high.toFixed(3)}]\`,
  "best k-shot": \`k=\${c.bestK.spec.k}: \${c.bestK.value.toFixed(3)} [\${c.bestK.ci.low.toFixed(3)}, \${c.bestK.ci.high.toFixed(3)}]\`,
  "k-shot > 0-shot": c.kShotBeatsZeroShot ? "yes" : "no",
  majority: c.majority === undefined ? "" : c.majority.toFixed(3),
  "0-shot > majority": c.zeroShotAboveMajority === undefined ? "" : c.zeroShotAboveMajority ? "yes" : "no" }))), { caption: "The bar, per task and map" });
const baseBar = ftgen.iclBar(checks);
ftgen.showText([
  \`k-shot beats 0-shot (non-overlapping CIs, map 0) on \${baseBar.kShotWins} of \${baseBar.tasks} tasks: \${baseBar.kShotMet ? "bar met" : "bar NOT met"}.\`,
  \`0-shot above the majority baseline (map 0) on \${baseBar.aboveMajority} of \${baseBar.classificationTasks} classification tasks: \${baseBar.majorityMet ? "bar met" : "bar NOT met"}.\`,
  \`Scale: \${(card.parameters / 1e6).toFixed(1)}M parameters and \${(t.tokensSeen / 1e6).toFixed(1)}M training tokens, against Llama-2's 7B and 2T: read every later notebook with that in mind.\`,
].join("\\n"), "Verdict at our scale");` },
  { md: `### How far could a model of this size go? (the supervised ceiling)

A base model cannot be expected to do 0-shot what the same weights cannot learn with labels. Experiment 8
(\`experiments/pretrain/README.md\`, \`npm run ft-ceiling\`) fine-tuned base models of 2.1–10.5M
parameters on each pair task's own train file and scored them 0-shot on the whole test set (500 items):

| | PAWS (majority 0.534) | MultiNLI (majority 0.339) | Amazon (majority 0.520) |
|---|---|---|---|
| this base model, 0-shot | 0.554 | 0.339 | 0.646 |
| fine-tuned on our own multitask items, in the paper's format | 0.530 | 0.362 | 0.686 |
| fine-tuned on the paper's train file | 0.536 | **0.449** | **0.852** |
| the 5.1M / 10.5M models, fine-tuned on the paper's train file | 0.540 / 0.558 | 0.433 / 0.463 | |

- **Paraphrase detection is beyond these sizes even with labels.** PAWS pairs share nearly every word, so
  only word order tells them apart; no model here gets above the majority after training on 2,000 (or
  6,000) of them. Read the study's paraphrase results as "no ability to lose or gain".
- **NLI is learnable from MultiNLI's own labels (0.43–0.46), but not from our NLI-like documents**
  (0.362 even when trained on them outright). So the 0-shot half of the bar hangs on NLI, and nothing
  in our corpus carries it.
- **Sentiment is where a base model of this size has real ability**, and where the study's comparisons
  of base, FT and FTICL models mean the most.` },
]);
