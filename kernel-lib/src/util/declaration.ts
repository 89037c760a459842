/**
 * Reading a declaration (a task, a dataset, a claim: a JSON object written by hand) with errors of
 * one line that name the file and the field: `declarations/tasks/topic.json: field "output.words":
 * label "sports" has no word`. Each getter checks its field's type; `only` refuses unknown fields.
 */

export class DeclarationError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export class Fields {
  private constructor(readonly file: string, private readonly obj: Record<string, unknown>, private readonly at: string) {}

  /** The top level of a declaration: it must be a JSON object. */
  static of(file: string, raw: unknown): Fields {
    if (!isObject(raw)) throw new DeclarationError(`${file}: expected a JSON object, got ${Array.isArray(raw) ? "an array" : typeof raw}`);
    return new Fields(file, raw, "");
  }

  /** The dotted path of a field of this object. */
  path(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  /** An error naming the file and the field. */
  fail(key: string | undefined, message: string): never {
    throw new DeclarationError(key === undefined && !this.at ? `${this.file}: ${message}` : `${this.file}: field "${key === undefined ? this.at : this.path(key)}": ${message}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  keys(): string[] {
    return Object.keys(this.obj);
  }

  /** Refuses a field outside `known` ("$comment" is always allowed). */
  only(known: readonly string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (k !== "$comment" && !known.includes(k)) this.fail(k, `unknown field (known: ${known.join(", ")})`);
    }
  }

  private raw(key: string, what: string): unknown {
    const v = this.obj[key];
    if (v === undefined) this.fail(key, `missing (${what})`);
    return v;
  }

  string(key: string, what = "a text"): string {
    const v = this.raw(key, what);
    if (typeof v !== "string" || v === "") this.fail(key, `expected ${what}, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(key: string, what = "a text"): string | undefined {
    return this.has(key) ? this.string(key, what) : undefined;
  }

  /** A non-empty array of distinct non-empty strings. */
  strings(key: string, what = "a list of names"): string[] {
    const v = this.raw(key, what);
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "string" || x === "")) this.fail(key, `expected ${what} (a non-empty array of texts), got ${JSON.stringify(v)}`);
    const seen = new Set<string>();
    for (const x of v as string[]) {
      if (seen.has(x)) this.fail(key, `"${x}" is listed twice`);
      seen.add(x);
    }
    return v as string[];
  }

  /** One text or a list of them, as a list. */
  stringOrStrings(key: string, what = "a name or a list of names"): string[] {
    const v = this.raw(key, what);
    if (typeof v === "string" && v !== "") return [v];
    return this.strings(key, what);
  }

  optionalStrings(key: string, what?: string): string[] | undefined {
    return this.has(key) ? this.strings(key, what) : undefined;
  }

  /** An integer ≥ `min`. */
  integer(key: string, min = 0): number {
    const v = this.raw(key, `an integer ≥ ${min}`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.fail(key, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A finite number in [min, max] (max exclusive where `below` is set). */
  number(key: string, range: { min?: number; max?: number; above?: number } = {}): number {
    const v = this.raw(key, "a number");
    const ok = typeof v === "number" && Number.isFinite(v) && (range.min === undefined || v >= range.min) && (range.max === undefined || v <= range.max) && (range.above === undefined || v > range.above);
    if (!ok) this.fail(key, `expected a number${range.above !== undefined ? ` above ${range.above}` : range.min !== undefined ? ` ≥ ${range.min}` : ""}${range.max !== undefined ? ` and ≤ ${range.max}` : ""}, got ${JSON.stringify(v)}`);
    return v as number;
  }

  boolean(key: string): boolean {
    const v = this.raw(key, "true or false");
    if (typeof v !== "boolean") this.fail(key, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A non-empty, strictly increasing list of integers ≥ `min`. */
  integers(key: string, min = 0): number[] {
    const v = this.raw(key, `a list of integers ≥ ${min}`);
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "number" || !Number.isInteger(x) || x < min)) this.fail(key, `expected a non-empty list of integers ≥ ${min}, got ${JSON.stringify(v)}`);
    const xs = v as number[];
    if (xs.some((x, i) => i > 0 && x <= xs[i - 1])) this.fail(key, `expected increasing values, got ${JSON.stringify(xs)}`);
    return xs;
  }

  oneOf<T extends string | number>(key: string, values: readonly T[]): T {
    const v = this.raw(key, `one of ${values.join(", ")}`);
    if (!values.includes(v as T)) this.fail(key, `expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  object(key: string, what = "an object"): Fields {
    const v = this.raw(key, what);
    if (!isObject(v)) this.fail(key, `expected ${what}, got ${JSON.stringify(v)}`);
    return new Fields(this.file, v, this.path(key));
  }

  optionalObject(key: string, what?: string): Fields | undefined {
    return this.has(key) ? this.object(key, what) : undefined;
  }
}
