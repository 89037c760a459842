/**
 * Learning-rate schedules. The paper uses a linear schedule with no warmup (HF Trainer's
 * "linear"); warmup is offered because small models trained from a fresh optimizer like it.
 */

export interface LinearSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warmup from 0 to `lr`. */
  warmupSteps: number;
  /** Total optimizer steps; the rate reaches 0 at this step. */
  totalSteps: number;
  /** Floor as a fraction of `lr` (0: decay to zero, as HF's linear schedule). */
  minRatio?: number;
}

/**
 * Learning rate for optimizer step `step` (0-based), as HF's get_linear_schedule_with_warmup:
 * step < warmup: lr·step/warmup; then lr·(total − step)/(total − warmup), floored at minRatio·lr.
 */
export function linearLr(s: LinearSchedule, step: number): number {
  const floor = (s.minRatio ?? 0) * s.lr;
  if (step < s.warmupSteps) return (s.lr * step) / Math.max(1, s.warmupSteps);
  const remaining = Math.max(0, s.totalSteps - step) / Math.max(1, s.totalSteps - s.warmupSteps);
  return Math.max(floor, s.lr * remaining);
}

/** Cosine decay after linear warmup (used for pretraining). */
export function cosineLr(s: LinearSchedule, step: number): number {
  const floor = (s.minRatio ?? 0.1) * s.lr;
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / Math.max(1, s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps));
  return floor + 0.5 * (s.lr - floor) * (1 + Math.cos(Math.PI * t));
}
