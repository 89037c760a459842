/**
 * A declarations folder of your own, added in one call: its tasks/ and datasets/ (data/tasks.ts),
 * then its claims/ (claims.ts), each checked before anything is added. FTGEN_DECLARATIONS lists
 * folders added when kernel-lib loads; `ftgen.addDeclarations(dir)` adds one in a running kernel.
 */
import { addTaskDeclarations, type TaskName } from "../data/tasks";
import { addClaimDeclarations, type ClaimId } from "./claims";

export function addDeclarations(dir: string): { tasks: TaskName[]; datasets: string[]; claims: ClaimId[] } {
  const data = addTaskDeclarations(dir);
  return { ...data, claims: addClaimDeclarations(dir) };
}
