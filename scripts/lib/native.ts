/**
 * Builds kernel-lib's optional native addon (kernel-lib/native: OpenBLAS GEMM and attention for
 * the wasm backend, see kernel-lib/src/model/native-blas.ts) with g++ against Debian's
 * libopenblas-dev. Rebuilt only when a source is newer than the addon. Optional: when it cannot be
 * built, this says why in one line and everything runs on plain tfjs-wasm, slower.
 *
 * -march=native is right here because the addon is built on the machine that runs it.
 * attention.cc, lm_head.cc and llm.cc are compiled with -ffast-math (glibc's vectorized expf needs it) but the addon is
 * linked without it: GCC 12 would otherwise link crtfastmath.o, which switches the whole Node
 * process to flush-to-zero.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { ensureAptPackages, SetupError } from "./apt";
import { setting } from "../../kernel-lib/src/util/settings";

const SOURCES = ["ftgen_blas.cc", "napi_util.h", "row_kernels.h", "attention.cc", "attention.h", "lm_head.cc", "lm_head.h", "llm.cc", "llm.h", "pool.h", "trainer.cc", "trainer.h", "trainer_napi.cc", "trainer_napi.h"];

function nodeIncludeDir(): string {
  return path.resolve(path.dirname(process.execPath), "..", "include", "node");
}

/** The addon, built if missing or stale; undefined (with a printed reason) when it can't be. */
export function ensureNativeAddon(log: (s: string) => void = console.log): string | undefined {
  const dir = path.join(projectRoot(), "kernel-lib", "native");
  const out = path.join(dir, "build", "ftgen_blas.node");
  const newest = Math.max(...SOURCES.map((f) => fs.statSync(path.join(dir, f)).mtimeMs));
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= newest) return out;
  if (setting("nativeBlas") === false) return undefined;
  try {
    ensureAptPackages({ "libopenblas-dev": "", "g++": "" }, log);
  } catch (e) {
    if (!(e instanceof SetupError)) throw e;
    log(`ftgen: native BLAS addon not built (${e.message}); tfjs-wasm alone will be used, slower`);
    return undefined;
  }
  const include = nodeIncludeDir();
  if (!fs.existsSync(path.join(include, "node_api.h"))) {
    log(`ftgen: native BLAS addon not built: ${include}/node_api.h is missing (Node's headers); tfjs-wasm alone will be used`);
    return undefined;
  }
  const blasInclude = ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/aarch64-linux-gnu/openblas-pthread", "/usr/include/openblas"].filter((p) => fs.existsSync(p));
  const inc = [`-I${include}`, ...blasInclude.map((p) => `-I${p}`)];
  const common = ["-O3", "-march=native", "-fPIC", "-std=c++17", ...inc];
  const build = path.join(dir, "build");
  fs.mkdirSync(build, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const steps: string[][] = [
    [...common, "-ffast-math", "-c", path.join(dir, "attention.cc"), "-o", path.join(build, "attention.o")],
    [...common, "-ffast-math", "-c", path.join(dir, "lm_head.cc"), "-o", path.join(build, "lm_head.o")],
    [...common, "-ffast-math", "-c", path.join(dir, "llm.cc"), "-o", path.join(build, "llm.o")],
    [...common, "-ffast-math", "-c", path.join(dir, "trainer.cc"), "-o", path.join(build, "trainer.o")],
    [...common, "-c", path.join(dir, "trainer_napi.cc"), "-o", path.join(build, "trainer_napi.o")],
    [...common, "-DNODE_GYP_MODULE_NAME=ftgen_blas", "-c", path.join(dir, "ftgen_blas.cc"), "-o", path.join(build, "ftgen_blas.o")],
    ["-shared", path.join(build, "ftgen_blas.o"), path.join(build, "attention.o"), path.join(build, "lm_head.o"), path.join(build, "llm.o"), path.join(build, "trainer.o"), path.join(build, "trainer_napi.o"), "-o", tmp, "-lopenblas", "-lpthread", "-lmvec"],
  ];
  log("ftgen: building the native BLAS addon (kernel-lib/native)");
  for (const args of steps) {
    const r = spawnSync("g++", args, { encoding: "utf8" });
    if (r.status !== 0) {
      fs.rmSync(tmp, { force: true });
      const why = (r.stderr || r.error?.message || "").trim().split("\n").slice(-1)[0];
      log(`ftgen: native BLAS addon not built (g++ failed: ${why}); tfjs-wasm alone will be used, slower`);
      return undefined;
    }
  }
  fs.renameSync(tmp, out); // atomic: a half-written addon is never loaded
  return out;
}
