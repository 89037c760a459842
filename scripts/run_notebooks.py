#!/usr/bin/python3
"""Execute notebooks headlessly through the Jupyter protocol (nbclient talking to the tslab kernel).

Called by `npm run study` (scripts/study.ts), which sets JUPYTER_PATH and FTGEN_PROFILE.
tslab sends no `error` iopub message when a cell fails, only an `execute_reply` with status
"error" and the message on stderr; so failure is read from the reply, and the report quotes the
cell's stderr. The first failing cell stops its notebook (tslab aborts the queued cells anyway).
Executed notebooks are validated with nbformat before they are written; a failed run writes its
partial notebook to FAILED_DIR instead of overwriting the output.

With FTGEN_DISPLAY_LOG=FILE in the environment, every display message (display_data,
update_display_data, execute_result) is also appended to FILE as a JSON line: the saved notebook
folds each update_display_data into the output it replaces, so only this log shows the updates
themselves (the tests read it).
"""
import argparse
import json
import os
import signal
import sys
import time

import nbformat
from nbclient import NotebookClient


class CellFailed(Exception):
    def __init__(self, cell_index, code_index, stderr, status):
        super().__init__(f"cell {cell_index + 1} failed")
        self.cell_index = cell_index
        self.code_index = code_index
        self.stderr = stderr
        self.status = status


def stream_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == name)


class Client(NotebookClient):
    """NotebookClient that logs display messages to FTGEN_DISPLAY_LOG when it is set."""

    def process_message(self, msg, cell, cell_index):
        log = os.environ.get("FTGEN_DISPLAY_LOG")
        msg_type = msg.get("msg_type") or msg["header"]["msg_type"]
        if log and msg_type in ("display_data", "update_display_data", "execute_result"):
            content = msg["content"]
            entry = {"cell": cell_index, "msg_type": msg_type, "display_id": content.get("transient", {}).get("display_id"),
                     "text": content.get("data", {}).get("text/plain")}
            with open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        return super().process_message(msg, cell, cell_index)


def execute(path, out_path, failed_dir, timeout, kernel_name):
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = {}

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.time()
        reinstall_stop_handlers()

    def on_cell_executed(cell, cell_index, execute_reply):
        status = execute_reply["content"]["status"] if execute_reply else "no reply"
        n = code_cells.index(cell_index) + 1
        secs = time.time() - started.get(cell_index, time.time())
        print(f"  {os.path.basename(path)}: code cell {n}/{len(code_cells)} {status} ({secs:.1f}s)", flush=True)
        if status != "ok":
            raise CellFailed(cell_index, n, stream_text(cell, "stderr"), status)

    name = kernel_name or nb.metadata.get("kernelspec", {}).get("name", "tslab")
    client = Client(
        nb,
        timeout=timeout,
        # tslab loads its TypeScript compiler before it answers; on a loaded CI box that can pass nbclient's 60 s.
        startup_timeout=180,
        kernel_name=name,
        allow_errors=True,
        # No timestamps in the cells: re-executing a notebook that computes nothing changes no byte.
        record_timing=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    try:
        client.execute()
    except CellFailed as failure:
        os.makedirs(failed_dir, exist_ok=True)
        failed_path = os.path.join(failed_dir, os.path.basename(out_path))
        nbformat.write(nb, failed_path)
        source = nb.cells[failure.cell_index].source
        print(f"\nFAILED {path}: cell {failure.cell_index + 1} (code cell {failure.code_index}), reply status \"{failure.status}\"", file=sys.stderr)
        print("--- cell source ---\n" + source.rstrip(), file=sys.stderr)
        print("--- kernel stderr ---\n" + (failure.stderr.rstrip() or "(none)"), file=sys.stderr)
        print(f"--- partial notebook: {failed_path}", file=sys.stderr)
        return False
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run
    nbformat.validate(nb)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, out_path)
    return True


def stop_with_parent_and_signals():
    """Stopping the study stops everything it started, with one line and no traceback.

    The process that started this one (npm run study's Node) dying sends us SIGTERM (Linux's
    parent-death signal); SIGTERM or Ctrl-C then end this process at once. The kernel, in a session
    of its own, exits when it sees its parent gone (scripts/kernel/parent-watch.cjs), and the study's
    workers when their channel to the kernel closes.
    """
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass

    def stop(signum, _frame):
        name = signal.Signals(signum).name
        print(f"ftgen: stopped by {name}; the kernel and the study's workers stop with this process", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    def install():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    install()
    return install


# Set again at each cell's start: nbclient's event loop installs SIGINT handling of its own.
reinstall_stop_handlers = lambda: None  # noqa: E731


def main():
    global reinstall_stop_handlers
    reinstall_stop_handlers = stop_with_parent_and_signals()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--out", help="folder for executed notebooks (default: overwrite in place)")
    ap.add_argument("--failed-dir", default=".cache/failed")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    ap.add_argument("--kernel", default=None, help="kernel name (default: the notebook's, else tslab)")
    args = ap.parse_args()
    ok = True
    for path in args.notebooks:
        out_path = os.path.join(args.out, os.path.basename(path)) if args.out else path
        t0 = time.time()
        print(f"executing {path} (profile {os.environ.get('FTGEN_PROFILE', 'default')})", flush=True)
        if execute(path, out_path, args.failed_dir, args.timeout, args.kernel):
            print(f"wrote {out_path} ({time.time() - t0:.1f}s)", flush=True)
        else:
            ok = False
            break
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
