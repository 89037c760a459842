/**
 * `npm run pretrain:gpu`: the base model's recipe trained by its PyTorch twin on a GPU.
 *
 *   tsx scripts/pretrain-gpu.ts [--config FILE] [--corpus DIR] [--run DIR] [--out DIR]
 *                               [--import] [--python BIN] [--no-debian]
 *
 * 1. The corpus stage, as `npm run pretrain` runs it (skipped when up to date, or with --corpus).
 * 2. The corpus as one token stream (scripts/lib/pretrain-stream.ts) in .cache/pretrain/stream-<hash>.
 * 3. bench/torch_pretrain.py trains the recipe (--config, default data/base-model.config.json, which
 *    must have a `torch` section) into --run (default .cache/pretrain/run-gpu). It needs Python with
 *    PyTorch and CUDA (--python, default python3); the study never does.
 * 4. The run is checked against the recipe and imported (pretrain/run/torch-import.ts): held-out
 *    evaluation by kernel-lib, model folder and card in --out (default the recipe's export.out, else <run>/model).
 * --import skips step 3 and imports a run trained elsewhere (a GPU machine; copy its folder to --run).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { initBackend } from "../kernel-lib/src/model/backend";
import { exportDir, readPretrainConfig } from "../kernel-lib/src/pretrain/run/recipe-config";
import { importTorchRun } from "../kernel-lib/src/pretrain/run/torch-import";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { pretrainCorpus } from "./lib/pretrain-corpus";
import { writeTokenStream, type StreamInfo } from "./lib/pretrain-stream";
import { SetupError } from "./lib/setup";
import { DEFAULT_CONFIG, recipeCorpusDir } from "./pretrain";
import { parseCli, userPath } from "./lib/cli";

export async function pretrainGpu(argv: string[] = process.argv.slice(2), log: (line: string) => void = console.log): Promise<string> {
  const { values } = parseCli("npm run pretrain:gpu", {
    args: argv,
    options: {
      config: { type: "string" }, corpus: { type: "string" }, run: { type: "string" }, out: { type: "string" },
      import: { type: "boolean" }, python: { type: "string" }, "no-debian": { type: "boolean" },
    },
  });
  const root = projectRoot();
  const configFile = values.config ? userPath(values.config) : path.join(root, DEFAULT_CONFIG);
  const config = readPretrainConfig(configFile);
  if (!config.torch) throw new SetupError(`${configFile}: no torch section, so the PyTorch twin has no settings for it; train it with npm run pretrain`);
  const runDir = values.run ? userPath(values.run) : path.join(root, ".cache", "pretrain", "run-gpu");

  let corpusDir: string;
  if (values.corpus) corpusDir = userPath(values.corpus);
  else {
    corpusDir = recipeCorpusDir(config);
    await pretrainCorpus(["--out", corpusDir, ...(values["no-debian"] ? ["--no-debian"] : [])], config.corpus);
  }

  if (!values.import) {
    const python = values.python ?? "python3";
    const probe = spawnSync(python, ["-c", "import torch, numpy; assert torch.cuda.is_available(), 'no CUDA device'"], { encoding: "utf8" });
    if (probe.status !== 0) {
      const why = probe.error ? probe.error.message : (probe.stderr.trim().split("\n").pop() ?? "");
      throw new SetupError(`${python}: PyTorch with a CUDA device is needed to train on a GPU (${why}); train elsewhere and pass --import, or use npm run pretrain`);
    }
    const streamDir = ensureStream(corpusDir, config.train.seed, log);
    const t = config.train, tc = config.torch;
    const args = [
      path.join(root, "bench", "torch_pretrain.py"), "--stream", streamDir, "--recipe", configFile, "--out", runDir, "--device", "cuda",
      "--batch", String(t.batchSize), "--steps", String(t.totalSteps), "--tokens", String(tc.tokens), "--warmup-frac", String(tc.warmupFrac),
      "--timing-steps", String(tc.timingSteps),
    ];
    log(`training with ${python} ${args.map((a) => path.isAbsolute(a) ? path.relative(root, a) : a).join(" ")}`);
    const r = spawnSync(python, args, { stdio: "inherit" });
    if (r.status !== 0) throw new SetupError(`bench/torch_pretrain.py exited with status ${r.status}; its last export (if any) is in ${runDir}`);
  }
  await initBackend({ log });
  return importTorchRun({ runDir, corpusDir, configFile, config, outDir: exportDir(config, runDir, root, values.out === undefined ? undefined : userPath(values.out)), log });
}

/** The corpus' token stream, written once per corpus and seed. */
function ensureStream(corpusDir: string, seed: number, log: (line: string) => void): string {
  const build = JSON.parse(fs.readFileSync(path.join(corpusDir, "build.json"), "utf8")) as { inputHash: string };
  const dir = path.join(projectRoot(), ".cache", "pretrain", `stream-${build.inputHash.slice(0, 8)}-${seed}`);
  const infoFile = path.join(dir, "stream.json");
  const info = fs.existsSync(infoFile) ? (JSON.parse(fs.readFileSync(infoFile, "utf8")) as StreamInfo) : undefined;
  if (info?.corpus_input_hash !== build.inputHash || info.seed !== seed) {
    const i = writeTokenStream(corpusDir, dir, seed);
    log(`token stream: ${i.tokens.toLocaleString("en-US")} tokens in ${path.relative(projectRoot(), dir)}`);
  }
  return dir;
}

if (require.main === module) {
  pretrainGpu().then((out) => console.log(`model folder: ${path.relative(process.cwd(), out)}`)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
