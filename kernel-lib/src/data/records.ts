/** Records as loaded from a dataset's file: the task's input fields and `output`, all texts (data/validate.ts checks them). */
import type { TaskName } from "./tasks";

/** A record of any task. `position` is the 0-based index in its file (ours, not the paper's). */
export interface TaskRecord {
  position: number;
  /** The paper's own id, where its file has one. */
  idx?: number;
  /** The target: a label of the task (classification) or the reference text (generation). */
  output: string;
  /** The task's input fields (TaskSpec.inputFields), by name. */
  [field: string]: string | number | undefined;
}

/** The records of a task (every task's records have the same shape; the name documents which). */
export type RecordOf = Record<TaskName, TaskRecord>;
export type AnyRecord = TaskRecord;

/** Why a row of a file is kept out of training and scoring. */
export type ExclusionReason = "unlabelled" | "empty-text";

export interface Excluded {
  position: number;
  reason: ExclusionReason;
  field?: string;
}
