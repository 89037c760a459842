/**
 * Every FTGEN_* environment variable ftgen reads, in one table: its name, type, meaning and default.
 * kernel-lib and the npm commands read them only through `setting()`, which reads the environment at
 * the call (a test or a parent process may set one before it starts a child or calls in), and turns a
 * bad value into one line naming the variable. The kernel logs the ones that are set when it starts
 * (scripts/kernel/log-settings.cjs). Variables of the test suite (FTGEN_REQUIRE_*) are the tests' own.
 */

type Kind = "path" | "paths" | "text" | "off-switch" | "on-switch" | "count";

interface SettingSpec {
  readonly env: string;
  readonly kind: Kind;
  /** What it sets, and what holds when it is unset. */
  readonly doc: string;
}

export const SETTINGS = {
  root: { env: "FTGEN_ROOT", kind: "path", doc: "the project folder; default the one holding kernel-lib" },
  dataDir: { env: "FTGEN_DATA_DIR", kind: "path", doc: "the paper's data files; default data/paper" },
  manifest: { env: "FTGEN_MANIFEST", kind: "path", doc: "the data manifest; default data/manifest.json" },
  dataMirror: { env: "FTGEN_DATA_MIRROR", kind: "path", doc: "a local copy of the paper repository's data/ that set-up copies from; default: download" },
  declarations: { env: "FTGEN_DECLARATIONS", kind: "paths", doc: "folders of your own declarations (tasks/, datasets/, claims/), separated by \":\"; default none" },
  baseModel: { env: "FTGEN_BASE_MODEL", kind: "path", doc: "ftgen's base model folder; default data/base-model" },
  modelsDir: { env: "FTGEN_MODELS_DIR", kind: "path", doc: "fetched, converted and fine-tuned models; default .cache/models" },
  registryDir: { env: "FTGEN_REGISTRY_DIR", kind: "path", doc: "the model registry's entries; default data/models" },
  resultsDir: { env: "FTGEN_RESULTS_DIR", kind: "path", doc: "where study records are written; default results/, or the profile's folder" },
  figuresDir: { env: "FTGEN_FIGURES_DIR", kind: "path", doc: "where exportFigure writes; default figures/" },
  profile: { env: "FTGEN_PROFILE", kind: "text", doc: "the study profile; default \"default\"" },
  cachedOnly: { env: "FTGEN_CACHED_ONLY", kind: "on-switch", doc: "1: compute nothing, read stored records only; default off" },
  backend: { env: "FTGEN_BACKEND", kind: "text", doc: "the tfjs backend; default the fastest that starts" },
  nativeBlas: { env: "FTGEN_NATIVE_BLAS", kind: "off-switch", doc: "0: do not use the native OpenBLAS addon; default on" },
  blasThreads: { env: "FTGEN_BLAS_THREADS", kind: "count", doc: "OpenBLAS threads; default OpenBLAS's own choice, the cores" },
  ortThreads: { env: "FTGEN_ORT_THREADS", kind: "count", doc: "onnxruntime threads per session; default its own" },
  llmDir: { env: "FTGEN_LLM_DIR", kind: "path", doc: "an LLM folder or GGUF file for notebook 02's optional section; default none (the section is skipped)" },
  chromium: { env: "FTGEN_CHROMIUM", kind: "path", doc: "the Chromium that renders static figures; default /usr/bin/chromium" },
  python: { env: "FTGEN_PYTHON", kind: "path", doc: "the Python with Jupyter that runs notebooks headless; default Debian's /usr/bin/python3" },
  labVenv: { env: "FTGEN_LAB_VENV", kind: "path", doc: "JupyterLab's venv; default .jupyter/venv" },
  venvPython: { env: "FTGEN_VENV_PYTHON", kind: "path", doc: "the project venv's Python, for tests and benchmarks; default .venv/bin/python" },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<K extends Kind> = K extends "count" ? number : K extends "off-switch" | "on-switch" ? boolean : K extends "paths" ? string[] : string;

/** A setting's value, or undefined where its variable is unset or empty. */
export function setting<N extends SettingName>(name: N): ValueOf<(typeof SETTINGS)[N]["kind"]> | undefined {
  const spec: SettingSpec = SETTINGS[name];
  const raw = process.env[spec.env]?.trim();
  if (raw === undefined || raw === "") return undefined;
  const bad = (expected: string): Error => new Error(`${spec.env}="${raw}": expected ${expected} (${spec.env}: ${spec.doc})`);
  switch (spec.kind) {
    case "count": {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw bad("a whole number of at least 1");
      return n as never;
    }
    case "off-switch":
    case "on-switch":
      if (raw !== "0" && raw !== "1") throw bad("0 or 1");
      return (raw === "1") as never;
    case "paths":
      return raw.split(":").filter((x) => x.trim() !== "") as never;
    default:
      return raw as never;
  }
}

/** The settings that are set, one per line ("FTGEN_PROFILE=smollm2: the study profile; default …"), for the kernel's start. */
export function settingsReport(): string[] {
  return (Object.keys(SETTINGS) as SettingName[]).flatMap((name) => {
    const spec: SettingSpec = SETTINGS[name];
    const raw = process.env[spec.env];
    return raw === undefined || raw.trim() === "" ? [] : [`${spec.env}=${raw.trim()}: ${spec.doc}`];
  });
}
