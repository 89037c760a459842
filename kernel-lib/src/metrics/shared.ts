/** Small checks shared by the metric files (internal; not re-exported). */

/**
 * Paired metrics compare item i of one list with item i of the other, so a length mismatch
 * is always a bug upstream (a dropped row, a wrong split): fail loudly, in one line.
 */
export function checkPaired(fn: string, aName: string, a: ArrayLike<unknown>, bName: string, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) {
    throw new Error(`${fn}: ${aName} has ${a.length} items but ${bName} has ${b.length}; they must be paired one to one`);
  }
}

/** Plain left-to-right arithmetic mean (NaN for no values; callers decide whether that is an error). */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}
