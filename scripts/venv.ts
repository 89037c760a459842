/**
 * `npm run venv [-- --bench]`: builds the project venv the conformance tests (and, with --bench,
 * npm run bench's llama.cpp rows) compare ftgen with. A second run checks and changes nothing.
 */
import { ensureVenv, venvPython } from "./lib/venv";
import { SetupError } from "./lib/setup";
import { parseCli } from "./lib/cli";

try {
  const { values } = parseCli("npm run venv", { options: { bench: { type: "boolean" } } });
  ensureVenv(values.bench ? "bench" : "conformance");
  console.log(`ftgen: project venv ready (${venvPython()})`);
} catch (e) {
  console.error(e instanceof SetupError ? e.message : `ftgen: ${(e as Error).message}`);
  process.exit(1);
}
