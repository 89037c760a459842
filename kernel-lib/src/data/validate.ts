/**
 * Schema checks of the paper's files, per task. A structural fault (not an array, a missing or
 * non-string field, a label outside the task's set) is a one-line error naming the file and item.
 * Two kinds of row are real in the paper's files and are kept out rather than fatal, then counted:
 * MNLI/SNLI rows labelled "-" ("unlabelled"), and rows with an empty text field ("empty-text").
 */
import { TASKS, type TaskName } from "./tasks";
import type { AnyRecord, Excluded } from "./records";

export interface Validated<R = AnyRecord> {
  records: R[];
  excluded: Excluded[];
}

/**
 * `file` names where the records came from in messages. `userData`: records a user passes in (e.g.
 * to finetune): an empty text or an unlabelled row is an error there rather than a row kept out, and
 * a record may carry the `position` that loadDataset gives it.
 */
export function validateRecords(file: string, task: TaskName, raw: unknown, opts: { userData?: boolean } = {}): Validated {
  const spec = TASKS[task];
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a JSON array of records, got ${typeof raw}`);
  const records: AnyRecord[] = [];
  const excluded: Excluded[] = [];
  const fields = [...spec.inputFields, "output"];
  raw.forEach((item: unknown, position: number) => {
    const where = `${file}: item ${position}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw new Error(`${where}: not an object`);
    const rec = item as Record<string, unknown>;
    for (const f of fields) {
      if (!(f in rec)) throw new Error(`${where}: missing field "${f}" (task ${task} needs ${fields.join(", ")})`);
      if (typeof rec[f] !== "string") throw new Error(`${where}: field "${f}" is ${typeof rec[f]}, not a string`);
    }
    for (const key of Object.keys(rec)) {
      if (key !== "idx" && !(opts.userData && key === "position") && !fields.includes(key)) throw new Error(`${where}: unexpected field "${key}" for task ${task}`);
    }
    if ("idx" in rec && (typeof rec.idx !== "number" || !Number.isInteger(rec.idx))) throw new Error(`${where}: "idx" is not an integer`);
    const output = rec.output as string;
    if (spec.labels) {
      if (spec.unlabelled?.includes(output)) {
        if (opts.userData) throw new Error(`${where}: label "${output}" marks an unlabelled row; train on labelled rows only (labels: ${spec.labels.join("/")})`);
        excluded.push({ position, reason: "unlabelled" });
        return;
      }
      if (!spec.labels.includes(output)) {
        throw new Error(`${where}: label "${output}" is not one of ${spec.labels.join("/")}`);
      }
    }
    const empty = fields.find((f) => (rec[f] as string).trim() === "");
    if (empty) {
      if (opts.userData) throw new Error(`${where}: field "${empty}" is empty`);
      excluded.push({ position, reason: "empty-text", field: empty });
      return;
    }
    const out: Record<string, unknown> = { position: opts.userData && typeof rec.position === "number" ? rec.position : position };
    if (typeof rec.idx === "number") out.idx = rec.idx;
    for (const f of fields) out[f] = rec[f];
    records.push(out as unknown as AnyRecord);
  });
  return { records, excluded };
}

/** Label counts of a set of records, in the task's label order. */
export function labelBalance(task: TaskName, records: readonly AnyRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of TASKS[task].labels ?? []) counts[l] = 0;
  for (const r of records) counts[r.output] = (counts[r.output] ?? 0) + 1;
  return counts;
}
