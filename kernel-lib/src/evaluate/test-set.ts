/**
 * A test set resolved once: its task (the object), its test and few-shot files (their ids enter the
 * record's key), and, when first asked for, its records and demonstrations. The runner resolves each
 * (test set, k, map) once and passes it on to the key, the prompts and the scoring.
 */
import { resolveTask, type TaskSpec } from "../data/tasks";
import { dataFile, type DataFile } from "../data/files";
import { loadFile, type Dataset } from "../data/load";
import type { TaskRecord } from "../data/records";
import { randomDemos } from "../prompts/build";
import type { TaskName, PromptMapId } from "../data/tasks";

export interface EvalSpec {
  task: TaskName;
  /** Test dataset (its own task decides the prompt: the paper's cross-task rule). */
  dataset: string;
  /** Number of demonstrations. */
  k: number;
  map: PromptMapId;
  /** Score the first `limit` rows of the test file (the paper: 250). */
  limit: number;
  /** Cap on each input field, in tokens (see prompts/fit). */
  fieldTokenCap: number;
  /** Prompts per forward pass. */
  batchSize?: number;
  /** Generation budget (default: the task's generation.maxNewTokens; the paper: 60). */
  maxNewTokens?: number;
  /** Demonstrations: the paper's first k (default), or k drawn with a seed. */
  demoSeed?: number;
  /** Seed of the bootstrap. */
  bootstrapSeed?: number;
}

export class TestSet {
  readonly task: TaskSpec;
  readonly test: DataFile;
  /** The few-shot file, where k > 0. */
  readonly fewShot: DataFile | null;
  private data?: Dataset;
  private pool?: TaskRecord[];

  constructor(readonly spec: EvalSpec) {
    this.task = resolveTask(spec.task);
    this.test = dataFile(spec.task, spec.dataset, "test");
    this.fewShot = spec.k > 0 ? dataFile(spec.task, spec.dataset, "few_shot") : null;
  }

  /** The first `limit` rows of the test file (usable records, and how many rows were kept out). */
  get dataset(): Dataset {
    return (this.data ??= loadFile(this.test, this.spec.limit));
  }

  /** The k demonstrations: the few-shot file's first k (the paper's), or k drawn with `demoSeed`. */
  get demos(): TaskRecord[] {
    if (this.pool) return this.pool;
    const { k, demoSeed, task, dataset } = this.spec;
    if (!this.fewShot) return (this.pool = []);
    const all = loadFile(this.fewShot).records;
    if (demoSeed !== undefined) return (this.pool = randomDemos(all, k, demoSeed));
    if (k > all.length) throw new Error(`${task}/${dataset}: asked for ${k} demonstrations, the few-shot file has ${all.length}`);
    return (this.pool = all.slice(0, k));
  }
}

/** The test set of a spec, or the one already resolved. */
export function testSetOf(s: EvalSpec | TestSet): TestSet {
  return s instanceof TestSet ? s : new TestSet(s);
}
