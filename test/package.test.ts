/** The project's own packaging rules: exact pins, the overrides the installs need, the scripts the README names. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>; devDependencies: Record<string, string>;
  overrides: Record<string, string>; scripts: Record<string, string>; allowScripts: Record<string, boolean>;
};

test("every dependency is pinned to an exact version", () => {
  for (const [name, v] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    assert.match(v, /^\d+\.\d+\.\d+$/, `${name}@${v} is not an exact version`);
  }
  for (const name of ["tslab", "typescript", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "danfojs-node", "plotly.js-dist-min", "@huggingface/transformers"]) {
    assert.ok(pkg.dependencies[name], `${name} is a dependency`);
  }
  assert.equal(pkg.dependencies["@tensorflow/tfjs-backend-wasm"], pkg.dependencies["@tensorflow/tfjs"]);
});

test("danfojs-node installs through overrides; onnxruntime-node's download is skipped", () => {
  assert.equal(pkg.overrides.xlsx, "0.18.5");
  assert.equal(pkg.overrides["@tensorflow/tfjs-node"], `npm:@tensorflow/tfjs@${pkg.dependencies["@tensorflow/tfjs"]}`);
  assert.equal(pkg.allowScripts["onnxruntime-node"], false);
  assert.match(fs.readFileSync(path.join(root, ".npmrc"), "utf8"), /^onnxruntime-node-install=skip$/m);
  const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
  assert.equal(lock.packages["node_modules/xlsx"]?.version, "0.18.5");
});

test("the README's commands exist as scripts", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  assert.match(readme, /npm ci && npm run study/);
  assert.match(readme, /npm ci && npm test/);
  for (const s of ["study", "test", "data", "notebook", "setup", "build", "typecheck"]) assert.ok(pkg.scripts[s], `script ${s}`);
});
