/**
 * A fine-tuned folder scored 0-shot (map 0) on its task's in-domain test set, as one printed line:
 * the score with its CI and, for classification, the majority baseline and whether the CI lies wholly
 * above it. Shared by scripts/ft-ceiling.ts and experiments/pretrain/probe-nli-items.ts (experiment 8).
 */
import { loadCausalLM } from "../../kernel-lib/src/evaluate/engines";
import { TASKS, type TaskName } from "../../kernel-lib/src/data/tasks";
import { majorityCheck } from "../../kernel-lib/src/study/icl";
import { evaluateCached, folderHash, type ResultStore } from "../../kernel-lib/src/study/store";
import { PROFILES } from "../../kernel-lib/src/study/profile";

/** `<task> (<dataset>) after FT<trainedOn>, 0-shot map 0, N items: metric v [lo, hi]; majority ("label") m: above it|not above it`. */
export async function zeroShotLine(dir: string, task: TaskName, items: number, store: ResultStore, trainedOn = ""): Promise<string> {
  const lm = await loadCausalLM(dir, "auto", { batchSize: 16 });
  try {
    const dataset = TASKS[task].inDomain;
    const r = await evaluateCached(lm, folderHash(dir), { task, dataset, k: 0, map: 0, limit: items, fieldTokenCap: PROFILES.default.fieldTokenCap, batchSize: 16 }, store);
    const f = (x: number): string => x.toFixed(3);
    const line = `${task} (${dataset}) after FT${trainedOn}, 0-shot map 0, ${r.n} items: ${r.metric} ${f(r.value)} [${f(r.ci.low)}, ${f(r.ci.high)}]`;
    if (TASKS[task].kind !== "classification") return line;
    const m = majorityCheck(r);
    return `${line}; majority ("${m.label}") ${f(m.accuracy)}: ${m.above ? "above it" : "not above it"}`;
  } finally {
    lm.dispose();
  }
}
