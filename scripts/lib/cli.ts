/**
 * What every command does with its command line: options parsed strictly, an unknown or malformed
 * one reported in one line with the known ones listed; paths taken from the folder the user ran the
 * command in (npm runs scripts from the project root and keeps the user's folder in INIT_CWD).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import path from "node:path";
import { SetupError } from "./apt";

/** parseArgs, failing in one line that names the command and lists its options. */
export function parseCli<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    const known = Object.entries(config.options ?? {}).map(([k, o]) => `--${k}${o.type === "string" ? " VALUE" : ""}`).join(", ");
    const why = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "").replace(/\.$/, "");
    throw new SetupError(`ftgen: ${command}: ${why} (its options: ${known || "none"})`);
  }
}

/** A path given on the command line, resolved from the user's folder rather than the project root. */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
