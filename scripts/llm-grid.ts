/**
 * `npm run llm-grid -- [MODEL] [--scope in-domain|out-of-domain|all] [--tasks t1,t2] [--max-minutes N]`: the ICL grid
 * of a pretrained LLM of the registry (default smollm2-135m; kernel-lib/src/study/llm-grid.ts), its
 * records stored in results/ as they finish. Resumable: a rerun computes only what is missing, and
 * --max-minutes starts no evaluation after that time; --tasks limits the grid to some tasks, in the
 * order given (for example the quick classification sets before the long summaries). Prints each record with its baseline, and the
 * wall time of the evaluations computed in this invocation.
 */
import { registryEntry, registryModelDir } from "../kernel-lib/src/model/registry";
import { loadCausalLM } from "../kernel-lib/src/evaluate/engines";
import { LLM_GRID, llmIclGrid } from "../kernel-lib/src/study/llm-grid";
import { iclBar, iclChecks, majorityBaseline, ICL_BAR, type IclScope } from "../kernel-lib/src/study/icl";
import { firstWordsBaseline, fixedOutputBaseline } from "../kernel-lib/src/study/baselines";
import { TASKS, TASK_NAMES, type TaskName } from "../kernel-lib/src/data/tasks";
import { ensureRegistryModel } from "./lib/get-model";
import { parseCli } from "./lib/cli";

const SCOPES: IclScope[] = ["in-domain", "out-of-domain", "all"];

async function main(): Promise<void> {
  const { values, positionals } = parseCli("npm run llm-grid", { allowPositionals: true, options: { scope: { type: "string" }, tasks: { type: "string" }, "max-minutes": { type: "string" } } });
  const name = positionals[0] ?? "smollm2-135m";
  const scope = (values.scope ?? "all") as IclScope;
  if (!SCOPES.includes(scope)) throw new Error(`--scope must be one of ${SCOPES.join(", ")} (got "${values.scope}")`);
  const minutes = values["max-minutes"] === undefined ? undefined : Number(values["max-minutes"]);
  if (minutes !== undefined && !(minutes > 0)) throw new Error(`--max-minutes must be a positive number (got "${values["max-minutes"]}")`);
  const tasks = values.tasks?.split(",").map((t) => t.trim()) as TaskName[] | undefined;
  const unknown = tasks?.filter((t) => !TASK_NAMES.includes(t));
  if (unknown?.length) throw new Error(`--tasks: unknown task ${unknown.map((t) => `"${t}"`).join(", ")} (tasks: ${TASK_NAMES.join(", ")})`);
  const entry = registryEntry(name);
  const t0 = Date.now();
  let computed = 0, computedSeconds = 0;
  const f = (x: number): string => x.toFixed(3);
  const grid = await llmIclGrid(name, scope, {
    load: async () => {
      await ensureRegistryModel(entry); // fetched only when a record is missing
      return loadCausalLM(registryModelDir(entry), "auto", { batchSize: LLM_GRID.batchSize });
    },
    tasks,
    deadline: minutes === undefined ? undefined : t0 + minutes * 60_000,
    onProgress: (done, total, r) => {
      if (!r.cached) { computed++; computedSeconds += r.seconds; }
      const s = r.spec;
      const base = TASKS[s.task].kind === "classification" ? `majority ${f(majorityBaseline(s.task, s.dataset, s.limit).accuracy)}` : "";
      console.log(`${new Date().toISOString().slice(11, 19)} [${done}/${total}] ${s.task}/${s.dataset} map ${s.map} k=${s.k}: ${r.metric} ${f(r.value)} [${f(r.ci.low)}, ${f(r.ci.high)}] ${base}${r.cached ? " (stored)" : ` (${r.seconds.toFixed(0)} s, ${r.engine})`}`);
    },
  });
  console.log(`${grid.length} records; ${computed} computed in this invocation in ${(computedSeconds / 60).toFixed(1)} min of evaluation (${((Date.now() - t0) / 60000).toFixed(1)} min wall)`);
  const inDomain = grid.filter((r) => r.spec.dataset === TASKS[r.spec.task].inDomain);
  console.log(`in-domain grid: ${inDomain.length} records, ${(inDomain.reduce((a, r) => a + r.seconds, 0) / 60).toFixed(1)} min of evaluation in all`);
  const bar = iclBar(iclChecks(grid));
  if (bar.tasks === 5) console.log(`issue 4's bar (map 0, in-domain): k-shot beats 0-shot on ${bar.kShotWins} of 5 (needs ${ICL_BAR.kShotWins}); 0-shot above majority on ${bar.aboveMajority} of 3 (needs ${ICL_BAR.aboveMajority})`);
  for (const task of ["summary", "question"] as const) {
    for (const ds of [TASKS[task].inDomain, ...TASKS[task].outOfDomain]) {
      if (!grid.some((r) => r.spec.dataset === ds)) continue;
      const b = firstWordsBaseline(task, ds, grid[0].spec.limit), x = fixedOutputBaseline(task, ds, grid[0].spec.limit);
      console.log(`${task}/${ds} baselines (chosen on ${b.chosenOn}): first ${b.n} words ROUGE-L ${f(b.rougeL)} [${f(b.ci.low)}, ${f(b.ci.high)}]; best fixed output ${f(x.rougeL)} [${f(x.ci.low)}, ${f(x.ci.high)}]`);
    }
  }
}

main().catch((e: Error) => {
  console.error(e.message.startsWith("ftgen:") ? e.message : `ftgen: ${e.message}`);
  process.exit(1);
});
