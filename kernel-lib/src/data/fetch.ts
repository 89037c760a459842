/**
 * Gets the paper's data files into the local cache (data/paper/), from a mirror folder or by
 * download from the pinned commit, and verifies every file's git blob id before keeping it.
 * A file whose blob does not match is refused by name. Writes are atomic.
 */
import fs from "node:fs";
import path from "node:path";
import { gitBlobId } from "./gitBlob";
import { loadManifest, type ManifestEntry } from "./manifest";
import { paperDataDir } from "../util/paths";
import { writeFileAtomic } from "../util/atomic";

export type FetchStatus = "cached" | "copied" | "downloaded" | "unavailable" | "refused";

export interface FileResult {
  entry: ManifestEntry;
  status: FetchStatus;
  /** Why a file is unavailable. */
  detail?: string;
}

export interface FetchOptions {
  /** A folder laid out like the paper repository's data/ (e.g. ../shared/paper-data). */
  mirror?: string;
  /** Download what the mirror lacks (default: only when no mirror is given). */
  download?: boolean;
  /** Cache folder (default data/paper). */
  dataDir?: string;
  /** Try again files that an earlier run found unavailable (otherwise optional ones are not retried). */
  retry?: boolean;
  /** Per-file download time limit in ms. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Every file that failed, after all were checked: one line each. */
export class FetchFailures extends Error {
  constructor(readonly failures: readonly string[], checked: number) {
    super(`${failures.length} of ${checked} data files failed:\n  ${failures.join("\n  ")}`);
  }

  /** Some file was refused for its blob id (as opposed to only missing). */
  get refused(): boolean {
    return this.failures.some((f) => f.includes(": refused ("));
  }
}

/** Thrown when a file's content does not match its manifest blob id. */
export class BlobMismatchError extends Error {}

function verify(entry: ManifestEntry, content: Uint8Array, source: string): void {
  const got = gitBlobId(content);
  if (got !== entry.blob) {
    throw new BlobMismatchError(`${source}: git blob ${got} does not match ${entry.blob} for ${entry.path} at the pinned commit; refusing it`);
  }
}

async function download(entry: ManifestEntry, timeoutMs: number): Promise<Uint8Array> {
  const res = await fetch(entry.url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Is the cached copy of `entry` present and intact? (A corrupt copy is deleted.) */
export function isCached(entry: ManifestEntry, dataDir = paperDataDir()): boolean {
  const file = path.join(dataDir, entry.path);
  if (!fs.existsSync(file)) return false;
  if (gitBlobId(fs.readFileSync(file)) === entry.blob) return true;
  fs.rmSync(file);
  return false;
}

/** Optional files found unavailable before, so that a second run does not try again (and wait) each time. */
function unavailableNotes(dataDir: string): { file: string; notes: Record<string, string> } {
  const file = path.join(dataDir, ".unavailable.json");
  const notes = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>) : {};
  return { file, notes };
}

export async function fetchPaperData(opts: FetchOptions = {}): Promise<FileResult[]> {
  const dataDir = opts.dataDir ?? paperDataDir();
  const known = unavailableNotes(dataDir);
  const allowDownload = opts.download ?? !opts.mirror;
  const log = opts.log ?? (() => {});
  const results: FileResult[] = [];
  const failures: string[] = [];
  for (const entry of loadManifest().files) {
    const dest = path.join(dataDir, entry.path);
    if (isCached(entry, dataDir)) {
      results.push({ entry, status: "cached" });
      continue;
    }
    if (entry.optional && known.notes[entry.path] && !opts.retry) {
      results.push({ entry, status: "unavailable", detail: `${known.notes[entry.path]}; "npm run data -- --retry" tries again` });
      continue;
    }
    let content: Uint8Array | null = null;
    let status: FetchStatus = "unavailable";
    const reasons: string[] = [];
    // A file whose blob id does not match is refused; the others are still checked, and every
    // failure is reported together at the end.
    let refused = false;
    if (opts.mirror) {
      const src = path.join(opts.mirror, entry.path);
      if (fs.existsSync(src)) {
        try {
          content = fs.readFileSync(src);
          verify(entry, content, src);
          status = "copied";
        } catch (e) {
          if (!(e instanceof BlobMismatchError)) throw e;
          content = null;
          refused = true;
          reasons.push(e.message);
        }
      } else {
        reasons.push(`not in mirror ${opts.mirror}`);
      }
    }
    if (!content && allowDownload) {
      try {
        content = await download(entry, opts.timeoutMs ?? 120_000);
        verify(entry, content, entry.url);
        status = "downloaded";
      } catch (e) {
        content = null;
        if (e instanceof BlobMismatchError) refused = true;
        reasons.push(e instanceof BlobMismatchError ? e.message : `download failed: ${(e as Error).message}`);
      }
    } else if (!content && !refused) {
      reasons.push("downloads off");
    }
    if (content) {
      writeFileAtomic(dest, content);
      log(`${status} ${entry.path}`);
      results.push({ entry, status });
      delete known.notes[entry.path];
    } else {
      const detail = reasons.join("; ");
      results.push({ entry, status: refused ? "refused" : "unavailable", detail });
      if (refused) failures.push(`${entry.path}: refused (${detail})`);
      else if (entry.optional) known.notes[entry.path] = detail;
      else failures.push(`${entry.path}: unavailable (${detail})`);
    }
  }
  writeFileAtomic(known.file, JSON.stringify(known.notes, null, 1) + "\n");
  if (failures.length > 0) {
    throw new FetchFailures(failures, results.length);
  }
  return results;
}
