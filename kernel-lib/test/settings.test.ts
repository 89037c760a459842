/** settings.ts: typed values, one-line errors naming the variable, and the one place FTGEN_* is read. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SETTINGS, setting, settingsReport } from "../src/util/settings";

function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  try {
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test("values are typed; unset or empty is undefined", () => {
  withEnv({ FTGEN_BLAS_THREADS: " 3 ", FTGEN_NATIVE_BLAS: "0", FTGEN_CACHED_ONLY: "1", FTGEN_PROFILE: "smollm2", FTGEN_ORT_THREADS: "" }, () => {
    assert.equal(setting("blasThreads"), 3);
    assert.equal(setting("nativeBlas"), false);
    assert.equal(setting("cachedOnly"), true);
    assert.equal(setting("profile"), "smollm2");
    assert.equal(setting("ortThreads"), undefined);
  });
  withEnv({ FTGEN_BLAS_THREADS: undefined }, () => assert.equal(setting("blasThreads"), undefined));
});

test("a bad value is one line naming the variable and what it expects", () => {
  withEnv({ FTGEN_BLAS_THREADS: "two" }, () => assert.throws(() => setting("blasThreads"), (e: Error) => /^FTGEN_BLAS_THREADS="two": expected a whole number of at least 1/.test(e.message) && !e.message.includes("\n")));
  withEnv({ FTGEN_ORT_THREADS: "0" }, () => assert.throws(() => setting("ortThreads"), /FTGEN_ORT_THREADS="0"/));
  withEnv({ FTGEN_NATIVE_BLAS: "off" }, () => assert.throws(() => setting("nativeBlas"), /FTGEN_NATIVE_BLAS="off": expected 0 or 1/));
});

test("the report lists exactly the settings that are set", () => {
  const unset = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.env, undefined]));
  withEnv({ ...unset, FTGEN_PROFILE: "quick", FTGEN_BLAS_THREADS: "1" }, () => {
    assert.deepEqual(settingsReport(), [`FTGEN_PROFILE=quick: ${SETTINGS.profile.doc}`, `FTGEN_BLAS_THREADS=1: ${SETTINGS.blasThreads.doc}`]);
  });
});

test("FTGEN_* is read only in settings.ts, and every setting is in the README", () => {
  const root = path.resolve(__dirname, "..", "..");
  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? (["node_modules", "dist", "build"].includes(e.name) ? [] : files(p)) : e.name.endsWith(".ts") ? [p] : [];
  });
  // A read: process.env.FTGEN_X or process.env["FTGEN_X"] not being assigned to.
  const read = /process\.env(?:\.|\["|\[')(FTGEN_[A-Z_]+)(?![A-Z_])["']?\]?(?!\s*=[^=])/g;
  const readers = [...files(path.join(root, "kernel-lib", "src")), ...files(path.join(root, "scripts"))]
    .filter((f) => !f.endsWith(path.join("util", "settings.ts")))
    .flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(read)].map((m) => `${path.relative(root, f)}: ${m[1]}`));
  assert.deepEqual(readers, []);
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  assert.deepEqual(Object.values(SETTINGS).map((s) => s.env).filter((env) => !readme.includes(`\`${env}\``)), []);
});
