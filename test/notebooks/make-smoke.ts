/** Generates test/notebooks/smoke.ipynb (committed; rerun after editing the cells here). */
import path from "node:path";
import { writeNotebook } from "../../scripts/lib/notebook-json";

writeNotebook(path.join(__dirname, "smoke.ipynb"), [
  { md: "# Smoke test\nImports kernel-lib, shows a dataset as a table, a 2-shot prompt and a plotly figure (awaited: its PNG is rendered in headless Chromium)." },
  { code: `import * as ftgen from "ftgen";\nconsole.log(\`ftgen \${ftgen.version}, profile \${ftgen.profile().name}\`);` },
  { code: `const sst2 = ftgen.loadDataset("sentiment", "sst2", "test", { limit: 8 });
ftgen.showTable(ftgen.toDataFrame(sst2.records, ["position", "input", "output"]), { caption: "sst2 test, first 8 rows" });` },
  { code: `const prompt = ftgen.kShotPrompt("sentiment", "sst2", sst2.records[0], 2, 0);
ftgen.showText(prompt, "2-shot prompt, map 0");` },
  { code: `await ftgen.showFigure({
  data: [{ type: "bar", x: ["positive", "negative"], y: Object.values(ftgen.labelBalance("sentiment", sst2.records)) }],
  layout: { title: { text: "sst2 label balance (first 8 rows)" }, height: 300 },
});` },
]);
