"""A sanitizer's report (ASan, LSan, UBSan, TSan) in a program's stderr,
for the Python helpers that run the programs (cli_check.py, serve_check.py,
watch_check.py, one_answer.py); common.sh does the same for the shell suites.

Under make check-asan a report also exits 86, but a check must not depend on
the exit status alone: where a program is expected to fail, or where its
status is not looked at, a report would otherwise pass unseen.
"""
import re

# The same pattern as SANITIZER_REPORT in common.sh.
PATTERN = re.compile(r"Sanitizer|runtime error:")


def report(stderr):
    """The report's first lines if `stderr` (str or bytes) holds one, else
    an empty string."""
    if isinstance(stderr, (bytes, bytearray)):
        stderr = bytes(stderr).decode("utf-8", "replace")
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if PATTERN.search(line):
            return "\n".join(lines[i:i + 30])
    return ""
