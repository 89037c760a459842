/** Reading a JSON file with one-line errors that name the file. */
import fs from "node:fs";

/** The parsed content of `file`; throws "<file>: cannot read (…)" or "<file>: not valid JSON (…)". */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
