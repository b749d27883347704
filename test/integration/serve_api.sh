#!/bin/sh
# imgclass-serve (examples/serve), all traffic on 127.0.0.1: every endpoint with curl, http.client and requests; every error status with its JSON; answers equal to imgclass classify; /metrics; SIGTERM exits 0.
# The checks are in helpers/serve_check.py (api), run by helpers/serve_run.sh.
exec sh "$(dirname "$0")/helpers/serve_run.sh" api
