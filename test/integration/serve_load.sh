#!/bin/sh
# imgclass-serve (examples/serve), all traffic on 127.0.0.1: 32 clients x 20 requests beside 200 idle and slow connections, batches > 1 in /metrics, 413 without reading the body, garbage, half requests, malformed multipart, early disconnects; SIGTERM with requests in flight. Under ASan (make check-asan) a leak makes the server's exit status, and so this suite, fail.
# The checks are in helpers/serve_check.py (load), run by helpers/serve_run.sh.
exec sh "$(dirname "$0")/helpers/serve_run.sh" load
