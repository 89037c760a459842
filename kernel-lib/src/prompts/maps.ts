/**
 * The paper's two prompt maps, as its tasks' declarations give them (declarations/tasks/*.json,
 * `templates`). Map 0 is also the fine-tuning format; map 1 is a natural-language variant used only at
 * evaluation. `npm run data` checks them against the paper's own prompt_map.json at the pinned commit.
 */
import { PROMPT_MAP_IDS, TASKS, TASK_NAMES, type PromptMapId, type TaskName } from "../data/tasks";

export { PROMPT_MAP_IDS, type PromptMapId };

/** The paper's tasks' templates, per map: PROMPT_MAPS[map][task]. */
export const PROMPT_MAPS: Readonly<Record<PromptMapId, Readonly<Record<TaskName, string>>>> = Object.fromEntries(
  PROMPT_MAP_IDS.map((id) => [id, Object.fromEntries(TASK_NAMES.filter((t) => TASKS[t].source === "paper").map((t) => [t, TASKS[t].templates[id]]))]),
) as Record<PromptMapId, Record<TaskName, string>>;

/**
 * Differences between the paper's task declarations and a prompt_map.json (the paper's format: an
 * array of two task→template objects). Empty when they agree exactly.
 */
export function diffPromptMaps(paperMaps: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(paperMaps) || paperMaps.length !== 2) return ["expected an array of two maps"];
  for (const id of PROMPT_MAP_IDS) {
    const theirs = paperMaps[id] as Record<string, unknown>;
    const ours = PROMPT_MAPS[id];
    const keys = new Set([...Object.keys(theirs), ...Object.keys(ours)]);
    for (const k of keys) {
      if (theirs[k] !== ours[k]) problems.push(`map ${id}, task "${k}": templates differ${TASKS[k] ? ` (${TASKS[k].file})` : ""}`);
    }
  }
  return problems;
}
