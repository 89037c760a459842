/** Typed records of each task, as loaded from the paper's JSON files. */
import type { TaskName } from "./tasks";

/** Fields every loaded record carries. `position` is the 0-based index in its file (ours, not the paper's). */
interface Base {
  position: number;
  /** The paper's own id, where its file has one. */
  idx?: number;
}
export interface SummaryRecord extends Base { input: string; output: string }
export interface QuestionRecord extends Base { input: string; answer: string; output: string }
export interface SentimentRecord extends Base { input: string; output: "positive" | "negative" }
export interface ParaphraseRecord extends Base { input_1: string; input_2: string; output: "yes" | "no" }
export interface NliRecord extends Base { input_1: string; input_2: string; output: "entailment" | "neutral" | "contradiction" }

export interface RecordOf {
  summary: SummaryRecord;
  question: QuestionRecord;
  sentiment: SentimentRecord;
  detection: ParaphraseRecord;
  inference: NliRecord;
}
export type AnyRecord = RecordOf[TaskName];

/** Why a row of a file is kept out of training and scoring. */
export type ExclusionReason = "unlabelled" | "empty-text";

export interface Excluded {
  position: number;
  reason: ExclusionReason;
  field?: string;
}
