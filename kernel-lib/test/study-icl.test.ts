/** iclChecks and scoreVsKChart on hand-made records; majorityBaseline on the fixture data. */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { iclBar, iclChecks, majorityBaseline, type IclCheckRow } from "../src/study/icl";
import { scoreVsKChart } from "../src/plot/score-vs-k";
import type { StoredResult } from "../src/study/store";
import type { TaskName } from "../src/data/tasks";

before(async () => { await fetchedFixture(); });

function rec(task: TaskName, dataset: string, map: 0 | 1, k: number, value: number, low: number, high: number): StoredResult {
  return { spec: { task, dataset, k, map, limit: 250, fieldTokenCap: 64 }, modelId: "m", engine: "e", metric: "accuracy", value, ci: { low, mid: value, high }, n: 4, excluded: 0, truncatedPrompts: 0, extra: {}, seconds: 0, key: `${task}${map}${k}`, modelKey: "m" };
}

test("iclChecks: best k-shot against 0-shot on CIs, and 0-shot against the majority baseline", () => {
  const rows = iclChecks([
    rec("sentiment", "amazon", 0, 0, 0.8, 0.76, 0.84), rec("sentiment", "amazon", 0, 2, 0.7, 0.6, 0.8), rec("sentiment", "amazon", 0, 4, 0.95, 0.9, 0.99),
    rec("summary", "xsum", 0, 0, 0.10, 0.08, 0.12), rec("summary", "xsum", 0, 1, 0.12, 0.10, 0.14),
  ]);
  const s = rows.find((r) => r.task === "sentiment")!;
  assert.equal(s.bestK.spec.k, 4);
  assert.equal(s.kShotBeatsZeroShot, true); // 0.90 > 0.84
  // The fixture's amazon test set (fixtures.ts) scores 4 rows, 3 of them positive (the row with an
  // empty text is excluded): majority 0.75.
  assert.equal(s.majority, 0.75);
  assert.equal(s.zeroShotAboveMajority, true); // 0.76 > 0.75
  const g = rows.find((r) => r.task === "summary")!;
  assert.equal(g.kShotBeatsZeroShot, false); // 0.10 < 0.12: the CIs overlap
  assert.equal(g.majority, undefined);
});

test("majorityBaseline counts the scored rows' labels", () => {
  assert.deepEqual(majorityBaseline("sentiment", "amazon", 250), { label: "positive", accuracy: 0.75 });
  // The first 3 rows hold one usable negative and one positive: a tie goes to the first label counted.
  assert.equal(majorityBaseline("sentiment", "amazon", 3).accuracy, 0.5);
});

test("scoreVsKChart: one line per test set in a panel per map, sorted by k, with asymmetric whiskers and the set's baseline", () => {
  const fig = scoreVsKChart([rec("sentiment", "amazon", 0, 4, 0.9, 0.85, 0.93), rec("sentiment", "amazon", 0, 0, 0.6, 0.5, 0.7), rec("sentiment", "amazon", 1, 0, 0.5, 0.4, 0.6)]);
  const lines = fig.data.filter((d) => d.mode === "lines+markers");
  assert.deepEqual(lines.map((d) => [d.name, d.xaxis]), [["amazon", "x"], ["amazon", "x2"]]);
  const t = lines[0] as { x: number[]; y: number[]; error_y: { array: number[]; arrayminus: number[] } };
  assert.deepEqual(t.x, [0, 4]);
  assert.deepEqual(t.y, [0.6, 0.9]);
  assert.deepEqual(t.error_y.array.map((v) => +v.toFixed(6)), [0.1, 0.03]);
  assert.deepEqual(t.error_y.arrayminus.map((v) => +v.toFixed(6)), [0.1, 0.05]);
  // The majority label of the fixture's amazon items (0.75), dotted in the set's colour, in both panels.
  const bases = fig.data.filter((d) => d.mode === "lines" && d.showlegend === false) as { y: number[]; line: { color: string } }[];
  assert.deepEqual(bases.map((b) => b.y), [[0.75, 0.75], [0.75, 0.75]]);
  assert.equal(bases[0].line.color, (lines[0] as { line: { color: string } }).line.color);
  const layout = fig.layout as Record<string, { title?: { text: string }; range?: number[] }>;
  assert.equal(layout.yaxis.title?.text, "accuracy");
  assert.ok(layout.yaxis.range![0] <= 0.4 && layout.yaxis.range![1] >= 0.93, `the range holds every CI: ${layout.yaxis.range}`);
});

test("iclBar: map 0 and in-domain sets only; at least 3 k-shot wins and 2 tasks above majority", () => {
  const inDomain: Record<string, string> = { summary: "xsum", question: "socialqa", sentiment: "amazon", detection: "paws", inference: "multinli" };
  const row = (task: string, map: number, win: boolean, aboveMaj?: boolean, dataset = inDomain[task]) =>
    ({ task, dataset, map, kShotBeatsZeroShot: win, majority: aboveMaj === undefined ? undefined : 0.5, zeroShotAboveMajority: aboveMaj }) as unknown as IclCheckRow;
  const checks = [
    row("summary", 0, true), row("question", 0, true), row("sentiment", 0, false, true), row("detection", 0, true, false), row("inference", 0, false, true),
    row("sentiment", 1, true, true), row("inference", 1, true, false),
    row("sentiment", 0, true, true, "yelp"), row("inference", 0, true, true, "rte"), // out of domain: not counted
  ];
  assert.deepEqual(iclBar(checks), { kShotWins: 3, tasks: 5, aboveMajority: 2, classificationTasks: 3, kShotMet: true, majorityMet: true });
  const fewer = iclBar(checks.filter((c) => !(c.map === 0 && c.task === "question")));
  assert.equal(fewer.kShotWins, 2);
  assert.equal(fewer.kShotMet, false, "map 1's wins do not count");
});
