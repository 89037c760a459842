import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { backendInfo, initBackend } from "../src/model/backend";

/** Runs f with console.warn captured. */
async function capturingWarnings<T>(f: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const orig = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    return { result: await f(), warnings };
  } finally {
    console.warn = orig;
  }
}

test("default: wasm with SIMD (no native package here), and the choice is logged", async () => {
  const saved = process.env.FTGEN_BACKEND;
  delete process.env.FTGEN_BACKEND;
  try {
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    // package.json aliases @tensorflow/tfjs-node to plain tfjs: it loads but provides no backend.
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(info.simd, true);
    assert.equal(info.threads, 1);
    // Then where the matMuls run: on the native OpenBLAS addon when it is built, else in wasm, and why.
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\[ftgen\] tfjs backend: wasm \(SIMD, 1 thread\)(, matMul on OpenBLAS \(\w+, \d+ threads\)|; matMul in wasm: .+)$/);
    assert.equal(lines[0].includes("OpenBLAS"), info.blas !== undefined);
    assert.equal(backendInfo(), info);
  } finally {
    if (saved !== undefined) process.env.FTGEN_BACKEND = saved;
  }
});

test("FTGEN_BACKEND overrides; unknown or unavailable choices warn and fall back", async () => {
  const saved = process.env.FTGEN_BACKEND;
  try {
    process.env.FTGEN_BACKEND = "cpu";
    assert.equal((await initBackend({ quiet: true })).name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
    process.env.FTGEN_BACKEND = "tensorflow";
    const native = await capturingWarnings(() => initBackend({ quiet: true }));
    assert.equal(native.result.name, "wasm");
    assert.match(native.warnings.join("\n"), /FTGEN_BACKEND=tensorflow, but neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node provides it/);
    process.env.FTGEN_BACKEND = "no-such-backend";
    const bogus = await capturingWarnings(() => initBackend({ quiet: true }));
    assert.equal(bogus.result.name, "wasm");
    assert.match(bogus.warnings.join("\n"), /FTGEN_BACKEND=no-such-backend/);
    // opts.backend wins over the environment.
    assert.equal((await initBackend({ backend: "cpu", quiet: true })).name, "cpu");
  } finally {
    if (saved === undefined) delete process.env.FTGEN_BACKEND;
    else process.env.FTGEN_BACKEND = saved;
  }
});
