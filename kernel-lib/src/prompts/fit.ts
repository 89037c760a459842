/**
 * Fitting prompts into a small model's context. A long article would otherwise crowd out the
 * demonstrations and the instruction, so each input field is capped at a number of tokens (cut at
 * the end, which keeps the lead of a news story), the same way in training and evaluation.
 */
import { resolveTask, type TaskRef } from "../data/tasks";
import type { TaskRecord } from "../data/records";
import type { Encoder } from "../tokenizer/encoder";

/** A copy of `record` whose input fields are at most `maxTokens` tokens each. */
export function capFields(task: TaskRef, record: TaskRecord, enc: Encoder, maxTokens: number): TaskRecord {
  const out = { ...record } as Record<string, unknown>;
  for (const f of resolveTask(task).inputFields) {
    const text = out[f] as string;
    // Cheap bound first: a token is at least one byte, so short texts need no encoding.
    if (Buffer.byteLength(text) <= maxTokens) continue;
    const ids = enc.encode(text);
    if (ids.length > maxTokens) out[f] = enc.decode(ids.slice(0, maxTokens)).replace(/\uFFFD+$/, "");
  }
  return out as TaskRecord;
}

/** Keep the last `max` ids (dropping the oldest context), with BOS kept in front when it was there. */
export function keepLast(ids: readonly number[], max: number, bosId: number): { ids: number[]; dropped: number } {
  if (ids.length <= max) return { ids: [...ids], dropped: 0 };
  const dropped = ids.length - max;
  if (ids[0] === bosId) return { ids: [bosId, ...ids.slice(dropped + 1)], dropped };
  return { ids: ids.slice(dropped), dropped };
}
