/**
 * A declarations folder of your own, added in one call: its tasks/ and datasets/ (data/tasks.ts),
 * then its claims/ (claims.ts), each checked before anything is added. FTGEN_DECLARATIONS lists
 * folders added when kernel-lib loads; `ftgen.addDeclarations(dir)` adds one in a running kernel.
 */
import { prepareTaskDeclarations, type TaskName } from "../data/tasks";
import { prepareClaimDeclarations, type ClaimId } from "./claims";

/** Adds a declarations folder: all of it, or (on the first bad declaration, one line) none of it. */
export function addDeclarations(dir: string): { tasks: TaskName[]; datasets: string[]; claims: ClaimId[] } {
  const data = prepareTaskDeclarations(dir);
  const claims = prepareClaimDeclarations(dir, "user", data.tasks.map((t) => t.name));
  return { ...data.commit(), claims: claims.commit() };
}
