/** Which job and which model family a study record belongs to: how records are paired and pooled over seeds. */
import type { StudyRecord } from "./runner";

/** What makes two records comparable item by item: the test set, k, map and number of items. */
export const jobKey = (r: StudyRecord): string => `${r.spec.task}|${r.spec.dataset}|${r.spec.k}|${r.spec.map}|${r.spec.limit}`;

/** A model family: its id without the seed ("ft/sentiment/2000"), or "base". */
export const familyOf = (r: StudyRecord): string => (r.method === "base" ? "base" : r.model.replace(/\/s\d+$/, ""));
