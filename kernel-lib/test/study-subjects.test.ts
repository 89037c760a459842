/** The verdict table by subject: a verdict, a claim a complete subject cannot measure, and one not judged yet. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { agreementLines, verdictComparisonRows, type Subject, type SubjectRun } from "../src/study/subjects";
import type { ClaimResult } from "../src/study/claims";

const subject = (id: "ftgen" | "smollm2", title: string): Subject => ({ id, title, compute: false } as unknown as Subject);
const verdict = (claim: string, v: ClaimResult["verdict"], effect: number): ClaimResult =>
  ({ claim, verdict: v, effect, low: effect - 0.01, high: effect + 0.01, collapsed: [], cells: [] } as unknown as ClaimResult);

test("a complete subject without a claim's cells says so; an incomplete one says how much is missing", () => {
  const a = subject("ftgen", "ftgen base"), b = subject("smollm2", "SmolLM2");
  const runs = [{ subject: a, records: [], missing: 0, total: 10 }, { subject: b, records: [], missing: 0, total: 10 }] as SubjectRun[];
  const results = [{ subject: a, verdicts: [verdict("C1", "reproduced", 0.1), verdict("P1", "inconclusive at this scale", 0.002)] }, { subject: b, verdicts: [verdict("C1", "reproduced", 0.2)] }];
  const rows = verdictComparisonRows(results, ["C1", "P1"], runs);
  assert.equal(rows[0]["ftgen base"], "reproduced: +0.100 [+0.090, +0.110]");
  assert.equal(rows[0].SmolLM2, "reproduced: +0.200 [+0.190, +0.210]");
  assert.match(rows[1].SmolLM2, /^not measured: its profile has none of this claim's cells/);
  const lines = agreementLines(results, ["C1", "P1"], runs);
  assert.equal(lines[0], "C1: ftgen base reproduced; SmolLM2 reproduced. They agree: both behave as the paper says.");
  assert.match(lines[1], /^P1: ftgen base inconclusive at this scale; SmolLM2 not measured: /);
  // Not complete: no verdict, and the count of what is missing.
  const partial = [{ subject: a, records: [], missing: 0, total: 10 }, { subject: b, records: [], missing: 7, total: 10 }] as SubjectRun[];
  const r2 = verdictComparisonRows([results[0], { subject: b, verdicts: [] }], ["C1"], partial);
  assert.equal(r2[0].SmolLM2, "not judged yet: 7 records of its study are not computed");
});
