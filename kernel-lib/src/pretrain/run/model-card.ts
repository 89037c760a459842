/**
 * The base model's card: what it was trained on (sources with their licences, token counts), how
 * (the recipe, steps, tokens seen, loss), where (machine, backend, wall time per invocation) and how
 * well (held-out loss per kind and source). model-card.json holds it all; MODEL_CARD.md is the
 * readable form of the same object.
 */
import type { LlamaConfig } from "../../model/config";
import type { HeldoutReport, HeldoutScore } from "./heldout";
import type { PretrainConfig } from "./recipe-config";

export interface CardSource {
  id: string;
  title: string;
  package: string;
  version: string;
  licence: string;
  /** Training documents and tokens taken from it. */
  docs: number;
  tokens: number;
}

export interface Invocation {
  index: number;
  startedAt: string;
  endedAt: string;
  fromStep: number;
  toStep: number;
  /** Seconds inside the training loop. */
  trainSeconds: number;
  /** Seconds of the whole invocation (corpus check, tokenization, training, export). */
  wallSeconds: number;
  /** Training tokens of this invocation. */
  tokens: number;
  /**
   * Why it ended: the run was complete, a budget ran out, or it only exported; "killed": it stopped
   * without finishing (a signal, a crash), and this record is as of its last checkpoint, where the
   * next invocation went on (the steps after that checkpoint were trained again).
   */
  ended: "complete" | "maxSeconds" | "maxStepsThisRun" | "export" | "killed";
  machine: Machine;
  backend: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  platform: string;
  /** Node's version for the recipe; for the PyTorch trainer, Python's. */
  node: string;
  /** The accelerator that trained, where one did. */
  gpu?: string;
}

/** Who ran the training loop, when it was not the recipe's own (tfjs) loop. */
export interface Trainer {
  /** "torch": bench/torch_pretrain.py, the PyTorch twin of the recipe (same architecture, corpus stream, optimizer and schedule). */
  engine: "torch";
  script: string;
  /** Its command-line arguments, as run. */
  argv: string[];
  torch: string;
  device: string;
  /** How it drew training windows: random offsets of the packed stream (several epochs), not the recipe's epoch order. */
  sampling: string;
  tokensPerSecond: number;
}

export interface ModelCard {
  name: string;
  created: string;
  /** "complete", or "partial" when exported before the last step. */
  status: "complete" | "partial";
  architecture: LlamaConfig;
  parameters: number;
  recipe: { file: string; sha256: string; config: PretrainConfig };
  seed: number;
  runKey: string;
  corpus: {
    inputHash: string;
    trainDocs: number;
    trainTokens: number;
    heldoutDocs: number;
    heldoutTokens: number;
    tokenizerVocab: number;
    /** The tokenizer's pre-tokenizer (absent in cards written before it was recorded: "llama3"). */
    tokenizerPretokenizer?: string;
    /** The paper's answer boundaries ("map/task/answer") that tokenize differently apart and together (prompts/boundary.ts). */
    answerBoundaryMismatches?: string[];
    sources: CardSource[];
    byKind: Record<string, { docs: number; tokens: number }>;
    paperTrainFiles: string[];
  };
  training: {
    steps: number;
    totalSteps: number;
    sequences: number;
    tokensSeen: number;
    /** tokensSeen / corpus training tokens. */
    epochs: number;
    finalLoss: number;
    /** Mean loss of the last (up to) 100 steps. */
    finalLossMean100: number;
    trainSeconds: number;
    wallSeconds: number;
    invocations: Invocation[];
  };
  heldout: HeldoutReport;
  /** Held-out loss on the sample of general text shipped in the folder (recomputable by tests). */
  heldoutSample?: HeldoutScore & { file: string; sources: string[] };
  backend: string;
  machine: Machine;
  trainer?: Trainer;
  files: { weights: string; dtype: string; bytes: number };
}

const n = (x: number): string => x.toLocaleString("en-US");
const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const hms = (s: number): string => {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.round(s % 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min ${String(sec).padStart(2, "0")} s`;
};
const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function scoreRows(scores: Record<string, HeldoutScore>): string[] {
  return Object.entries(scores).map(([k, s]) => `| ${k} | ${n(s.docs)} | ${n(s.tokens)} | ${f(s.loss)} | ${f(s.perplexity, 1)} |`);
}

/** MODEL_CARD.md text. */
export function modelCardMarkdown(c: ModelCard): string {
  const a = c.architecture, t = c.training, r = c.recipe.config.train;
  const lines = [
    `# ${c.name}`,
    "",
    `A ${(c.parameters / 1e6).toFixed(2)}M-parameter Llama-architecture base model, pretrained from scratch by ftgen's recipe ` +
      (c.trainer
        ? `on a GPU (\`npm run pretrain:gpu\`, config \`${c.recipe.file}\`: the recipe's corpus, model and optimizer, trained by its PyTorch twin \`${c.trainer.script}\`)`
        : `(\`npm run pretrain\`, config \`${c.recipe.file}\`)`) +
      ` on open corpora, for the study of fine-tuning and in-context learning.` +
      (c.status === "partial" ? ` **Partial: exported at step ${t.steps} of ${t.totalSteps}.**` : ""),
    "",
    "## Model",
    "",
    `| | |`,
    `|---|---|`,
    `| architecture | LlamaForCausalLM: ${a.num_hidden_layers} layers, width ${a.hidden_size}, ${a.num_attention_heads} heads (${a.num_key_value_heads} KV), SwiGLU MLP ${a.intermediate_size}, RoPE θ ${a.rope_theta}, ${a.tie_word_embeddings ? "tied" : "untied"} embeddings |`,
    `| parameters | ${n(c.parameters)} |`,
    `| vocabulary | ${n(a.vocab_size)} (byte-level BPE trained on the corpus, ${c.corpus.tokenizerPretokenizer ?? "llama3"} pre-tokenizer) |`,
    ...(c.corpus.answerBoundaryMismatches ? [`| answer boundary | ${c.corpus.answerBoundaryMismatches.length === 0 ? "every paper prompt tokenizes as a prefix of prompt + answer" : `${c.corpus.answerBoundaryMismatches.length} paper prompt/answer pairs tokenize differently apart and together: ${c.corpus.answerBoundaryMismatches.join(", ")}`} |`] : []),
    `| context | ${r.seqLen} tokens trained (max_position_embeddings ${a.max_position_embeddings}) |`,
    `| weights | \`${c.files.weights}\`, ${c.files.dtype}, ${(c.files.bytes / 1e6).toFixed(1)} MB |`,
    "",
    "## Training",
    "",
    `| | |`,
    `|---|---|`,
    `| steps | ${n(t.steps)} of ${n(t.totalSteps)} |`,
    `| batch | ${r.batchSize} sequences × ${r.seqLen} tokens${c.trainer ? "" : ` (micro-batch ${r.microBatchSize})`}, documents packed as BOS + text + EOS, loss on every token |`,
    `| optimizer | AdamW (β ${r.beta1}/${r.beta2}, ε ${r.eps}, weight decay ${r.weightDecay}), clip ${r.maxGradNorm}; lr ${r.lr}, ${r.warmupSteps} warmup steps, cosine to ${r.minLrRatio}×lr |`,
    `| seed | ${c.seed} |`,
    `| tokens seen | ${n(t.tokensSeen)} (${f(t.epochs, 2)} epochs of the corpus) |`,
    `| final train loss | ${f(t.finalLoss)} (mean of the last 100 steps ${f(t.finalLossMean100)}) |`,
    `| training time | ${hms(t.trainSeconds)} in the loop, ${hms(t.wallSeconds)} wall over ${t.invocations.length} invocation${t.invocations.length === 1 ? "" : "s"} |`,
    ...(c.trainer ? [
      `| trainer | \`${c.trainer.script} ${c.trainer.argv.join(" ")}\` (PyTorch ${c.trainer.torch}, ${c.trainer.device}, ${n(Math.round(c.trainer.tokensPerSecond))} tokens/s); ${c.trainer.sampling} |`,
      `| machine | ${c.machine.gpu ? `${c.machine.gpu}; ` : ""}${c.machine.cpus} CPU cores (${c.machine.cpuModel}), ${c.machine.memGiB} GiB, ${c.machine.platform}, ${c.machine.node} |`,
    ] : [`| machine | ${c.machine.cpus} × ${c.machine.cpuModel}, ${c.machine.memGiB} GiB, ${c.machine.platform}, Node ${c.machine.node} |`]),
    `| backend | ${c.backend} |`,
    "",
    "| invocation | started | steps | tokens | training | wall | ended |",
    "|---|---|---|---|---|---|---|",
    ...t.invocations.map((i) => `| ${i.index} | ${i.startedAt} | ${i.fromStep} → ${i.toStep} | ${n(i.tokens)} | ${hms(i.trainSeconds)} | ${hms(i.wallSeconds)} | ${i.ended} |`),
    "",
    "## Corpus",
    "",
    `${n(c.corpus.trainTokens)} training tokens in ${n(c.corpus.trainDocs)} documents; ${n(c.corpus.heldoutTokens)} held-out tokens in ${n(c.corpus.heldoutDocs)} documents (corpus input hash \`${c.corpus.inputHash.slice(0, 12)}\`).`,
    "",
    "| source | what | package | licence | docs | tokens |",
    "|---|---|---|---|---|---|",
    ...c.corpus.sources.map((s) => `| ${s.id} | ${cell(s.title)} | ${cell([s.package, s.version].filter(Boolean).join(" "))} | ${cell(s.licence)} | ${n(s.docs)} | ${n(s.tokens)} |`),
    "",
    "| kind | docs | tokens |",
    "|---|---|---|",
    ...Object.entries(c.corpus.byKind).map(([k, v]) => `| ${k} | ${n(v.docs)} | ${n(v.tokens)} |`),
    "",
    `The paper's training inputs (never outputs or labels; records sharing a 13-gram with a test or few-shot file left out) come from ${c.corpus.paperTrainFiles.map((p) => `\`${p}\``).join(", ")}.`,
    "",
    "## Held-out loss",
    "",
    `Mean next-token loss (nats) and perplexity on the corpus' held-out documents, packed as in training (${c.heldout.seqLen} tokens).`,
    "",
    "| kind | docs | tokens | loss | perplexity |",
    "|---|---|---|---|---|",
    ...scoreRows(c.heldout.byKind),
    `| **all** | ${n(c.heldout.all.docs)} | ${n(c.heldout.all.tokens)} | ${f(c.heldout.all.loss)} | ${f(c.heldout.all.perplexity, 1)} |`,
    "",
    "| source | docs | tokens | loss | perplexity |",
    "|---|---|---|---|---|",
    ...scoreRows(c.heldout.bySource),
    "",
    `Recipe config sha256 \`${c.recipe.sha256.slice(0, 16)}\`, run key \`${c.runKey.slice(0, 16)}\`, written ${c.created}.`,
    "",
  ];
  return lines.join("\n");
}
