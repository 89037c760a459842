/**
 * A declarations folder of your own, added in one call: its tasks/ and datasets/ (data/tasks.ts),
 * claims/ (claims.ts), profiles/ (profile.ts) and studies/ (studies.ts), all checked before anything
 * is added. FTGEN_DECLARATIONS lists
 * folders added when kernel-lib loads; `ftgen.addDeclarations(dir)` adds one in a running kernel.
 */
import { prepareTaskDeclarations, type TaskName } from "../data/tasks";
import { prepareClaimDeclarations, type ClaimId } from "./claims";
import { prepareProfileDeclarations, type ProfileName } from "./profile";
import { prepareStudyDeclarations, type NotebookStudy } from "./studies";

/** Adds a declarations folder: all of it, or (on the first bad declaration, one line) none of it. */
export function addDeclarations(dir: string): { tasks: TaskName[]; datasets: string[]; claims: ClaimId[]; profiles: ProfileName[]; studies: NotebookStudy[] } {
  const data = prepareTaskDeclarations(dir);
  const claims = prepareClaimDeclarations(dir, "user", data.tasks.map((t) => t.name));
  const profiles = prepareProfileDeclarations(dir, "user", { tasks: data.tasks.map((t) => t.name), datasets: data.datasets });
  const studies = prepareStudyDeclarations(dir);
  return { ...data.commit(), claims: claims.commit(), profiles: profiles.commit(), studies: studies.commit() };
}
