"""Send N kernel_info requests to the project's kernel at once, then one execute; print what came back.

Used by test/kernel.test.ts. Prints one JSON line: {"replies": k, "requests": n, "execute": status}.
"""
import json
import os
import sys
import time
from queue import Empty

from jupyter_client.manager import KernelManager


def main():
    n = int(sys.argv[1])
    km = KernelManager(kernel_name="tslab")
    km.start_kernel(cwd=os.getcwd())
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        for _ in range(n):
            kc.kernel_info()
        replies, deadline = 0, time.time() + 30
        while replies < n and time.time() < deadline:
            try:
                if kc.get_shell_msg(timeout=1)["msg_type"] == "kernel_info_reply":
                    replies += 1
            except Empty:
                pass
        kc.execute("1 + 1")
        status, deadline = "no reply", time.time() + 30
        while time.time() < deadline:
            try:
                msg = kc.get_shell_msg(timeout=1)
            except Empty:
                continue
            if msg["msg_type"] == "execute_reply":
                status = msg["content"]["status"]
                break
        print(json.dumps({"replies": replies, "requests": n, "execute": status}), flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
