/**
 * One claim (declarations/claims/<id>.json): what it says, the contrast it is measured by, the
 * cells of that contrast it takes, the direction the paper expects, and the rule of its verdict.
 *
 *   { "id": "C2", "text": "classification FT transfers positively out of domain",
 *     "measure": "FT − base on the classification tasks' out-of-domain sets (0-shot, map 0)",
 *     "contrast": "ft-vs-base", "cells": { "scope": "out", "k": 0, "map": 0, "testKind": "classification" },
 *     "direction": 1, "rule": "pooled" }
 *
 * Contrasts (their cells are built in claims.ts):
 *   ft-vs-base                FT − base, per FT model and test set
 *   fticl-vs-ft               FTICL − FT, with the k demonstrations FTICL trained with
 *   icl-gain-base-vs-ft       (base k-shot − 0-shot) − (FT k-shot − 0-shot), k over the shot list
 *   largest-vs-smallest-size  FT at the largest train size − at the smallest
 *   map1-vs-map0              the same FT model prompted in map 1 − in map 0
 * Rules: pooled (the CI of the pooled effect against zero), some-cell-holm (reproduced when some
 * cell is significant after Holm's correction: "not always" claims), gain-and-gap (icl-gain only:
 * the base model must gain, and gain more than FT).
 */
import { Fields } from "../util/declaration";
import { TASKS, type TaskKind, type TaskName } from "../data/tasks";

export type ContrastName = "ft-vs-base" | "fticl-vs-ft" | "icl-gain-base-vs-ft" | "largest-vs-smallest-size" | "map1-vs-map0";
export type ClaimRule = "pooled" | "some-cell-holm" | "gain-and-gap";
type ScopeName = "in" | "out" | "cross";

/** Which records a claim's cells come from (every field optional: unset takes all). */
export interface CellFilter {
  scope?: readonly ScopeName[];
  k?: number;
  map?: 0 | 1;
  testKind?: TaskKind;
  trainKind?: TaskKind;
  testTasks?: readonly TaskName[];
  trainTasks?: readonly TaskName[];
}

/** The filter fields each contrast takes (a contrast fixes the others itself), and the rules it allows. */
export const CONTRASTS: Readonly<Record<ContrastName, { filters: readonly (keyof CellFilter)[]; rules: readonly ClaimRule[] }>> = {
  "ft-vs-base": { filters: ["scope", "k", "map", "testKind", "trainKind", "testTasks", "trainTasks"], rules: ["pooled", "some-cell-holm"] },
  "fticl-vs-ft": { filters: ["scope", "map", "testKind", "trainKind", "testTasks", "trainTasks"], rules: ["pooled", "some-cell-holm"] },
  "icl-gain-base-vs-ft": { filters: ["scope", "testKind", "trainKind", "testTasks", "trainTasks"], rules: ["gain-and-gap", "pooled"] },
  "largest-vs-smallest-size": { filters: ["scope", "k", "map", "testKind", "trainKind", "testTasks", "trainTasks"], rules: ["pooled", "some-cell-holm"] },
  "map1-vs-map0": { filters: ["scope", "k", "testKind", "trainKind", "testTasks", "trainTasks"], rules: ["pooled", "some-cell-holm"] },
};

export interface ClaimSpec {
  id: string;
  text: string;
  measure: string;
  contrast: ContrastName;
  cells: CellFilter;
  direction: 1 | -1;
  rule: ClaimRule;
  source: "paper" | "user";
  order?: number;
  /** The declaration file. */
  file: string;
}

/** A claim declaration read from `file`. Task names in the filter must be declared tasks (or among `pendingTasks`). */
export function parseClaimDeclaration(file: string, raw: unknown, source: "paper" | "user", pendingTasks: readonly TaskName[] = []): ClaimSpec {
  const d = Fields.of(file, raw);
  d.only(["id", "order", "source", "text", "measure", "contrast", "cells", "direction", "rule"]);
  const id = d.string("id", "the claim's id");
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(id)) d.fail("id", `"${id}": letters, digits, "-" and "_", starting with a letter`);
  const contrast = d.oneOf("contrast", Object.keys(CONTRASTS) as ContrastName[]);
  const allowed = CONTRASTS[contrast];
  const c = d.object("cells", "which records the cells come from");
  c.only(allowed.filters);
  const cells: CellFilter = {};
  if (c.has("scope")) {
    cells.scope = c.stringOrStrings("scope", "a scope or a list of them (in, out, cross)").map((s) => (["in", "out", "cross"].includes(s) ? (s as ScopeName) : c.fail("scope", `"${s}" is not a scope (in, out, cross)`)));
  }
  if (c.has("k")) cells.k = c.integer("k", 0);
  if (c.has("map")) cells.map = c.oneOf("map", [0, 1] as const);
  if (c.has("testKind")) cells.testKind = c.oneOf("testKind", ["generation", "classification"] as const);
  if (c.has("trainKind")) cells.trainKind = c.oneOf("trainKind", ["generation", "classification"] as const);
  for (const key of ["testTasks", "trainTasks"] as const) {
    if (!c.has(key)) continue;
    const ts = c.stringOrStrings(key, "a task's name or a list of them");
    const known = [...Object.keys(TASKS), ...pendingTasks];
    const unknown = ts.find((t) => !known.includes(t));
    if (unknown) c.fail(key, `unknown task "${unknown}" (known: ${known.join(", ")})`);
    cells[key] = ts;
  }
  const direction = d.oneOf("direction", [1, -1] as const);
  const rule = d.oneOf("rule", ["pooled", "some-cell-holm", "gain-and-gap"] as const);
  if (!allowed.rules.includes(rule)) d.fail("rule", `${rule} does not apply to contrast ${contrast} (it takes ${allowed.rules.join(", ")})`);
  const declared = d.has("source") ? d.oneOf("source", ["paper", "user"] as const) : source;
  if (declared === "paper" && source !== "paper") d.fail("source", 'only the project\'s own declarations are the paper\'s; a claim of yours is "user"');
  return {
    id, text: d.string("text", "what the claim says"), measure: d.string("measure", "what is measured, in words"),
    contrast, cells, direction, rule, source: declared, file, ...(d.has("order") ? { order: d.integer("order", 1) } : {}),
  };
}
