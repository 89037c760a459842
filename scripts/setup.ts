/** `npm run setup`: apt packages, kernel registration, kernel-lib build, JupyterLab and the paper's data. */
import { setupAll, SetupError } from "./lib/setup";
import { parseCli } from "./lib/cli";

// Chromium is part of the default set-up; --chromium is kept (it was once opt-in), --no-chromium skips it.
Promise.resolve()
  .then(() => parseCli("npm run setup", { options: { chromium: { type: "boolean" }, "no-chromium": { type: "boolean" }, "no-data": { type: "boolean" }, "no-lab": { type: "boolean" } } }).values)
  .then((values) => setupAll({ chromium: !values["no-chromium"], data: !values["no-data"], lab: !values["no-lab"] }))
  .then(() => console.log("ftgen: set-up complete"))
  .catch((e: Error) => {
    console.error(e instanceof SetupError ? e.message : e.stack);
    process.exit(1);
  });
