/**
 * Command lines as a user types them: an unknown option is one line listing the known ones (no stack
 * trace), and paths are taken from the folder the command is run in, not the project root.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { userPath } from "../scripts/lib/cli";

const root = path.resolve(__dirname, "..");
const npm = (cwd: string, args: string[]) => spawnSync("npm", ["run", "--silent", ...args], { cwd, encoding: "utf8", timeout: 120_000 });

test("an unknown option: one line naming the command and listing its options", () => {
  for (const [cmd, flag] of [["study", "--bogus-flag"], ["data", "--mirrror"], ["llm-grid", "--scopes"], ["get-model", "--x"], ["setup", "--no-chrome"], ["bench", "--llm"],
    ["notebook", "--prot"], ["venv", "--x"], ["base-bar", "--x"], ["ft-ceiling", "--x"], ["pretrain:gpu", "--x"]] as const) {
    const r = npm(path.join(root, "notebooks"), [cmd, "--", flag, "y"]);
    assert.equal(r.status, 1, `${cmd}: ${r.stderr}`);
    const lines = r.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("npm warn"));
    assert.equal(lines.length, 1, `${cmd}: ${r.stderr}`);
    assert.match(lines[0], new RegExp(`^ftgen: npm run ${cmd}: Unknown option '${flag}' \\(its options: --`), cmd);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});

test("paths on the command line are taken from the folder the command was run in", () => {
  const r = npm(path.join(root, "notebooks"), ["study", "--", "--no-setup", "no-such.ipynb"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`ftgen: no such notebook: ${path.join(root, "notebooks", "no-such.ipynb").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
  const old = process.env.INIT_CWD;
  try {
    process.env.INIT_CWD = "/tmp/a/b";
    assert.equal(userPath("../../mirror"), "/tmp/mirror");
    assert.equal(userPath("/abs/x"), "/abs/x");
    delete process.env.INIT_CWD;
    assert.equal(userPath("x"), path.resolve("x"));
  } finally {
    if (old === undefined) delete process.env.INIT_CWD; else process.env.INIT_CWD = old;
  }
});
