"""What each bench script does first: read the one JSON request file named on the command line, and
keep stdout for the one JSON answer (stray library prints go to stderr)."""
import json
import sys


def read_request(doc):
    """Returns (request, the real stdout); exits 2 with the script's `doc` when the call is wrong."""
    if len(sys.argv) != 2:
        print(doc, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1]) as f:
        req = json.load(f)
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    return req, real_stdout
