/** The documents of the pretraining corpus and their classification. */

/** What a document is: plain text, a paper training input, or one kind of multitask document. */
export type DocKind = "general" | "paper-input" | "mt-sentiment" | "mt-paraphrase" | "mt-nli" | "mt-summary" | "mt-question";

export const DOC_KINDS: readonly DocKind[] = ["general", "paper-input", "mt-sentiment", "mt-paraphrase", "mt-nli", "mt-summary", "mt-question"];

/** One document: `source` names a SOURCES entry (or "paper:<dataset>" for the paper's train inputs). */
export interface CorpusDoc {
  source: string;
  kind: DocKind;
  text: string;
}
