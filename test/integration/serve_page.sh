#!/bin/sh
# imgclass-serve (examples/serve), all traffic on 127.0.0.1: the web page in headless Chromium (Selenium): the top-1 it shows equals the API's. Skipped (77) without chromium, chromium-driver and python3-selenium.
# The checks are in helpers/serve_check.py (browser), run by helpers/serve_run.sh.
exec sh "$(dirname "$0")/helpers/serve_run.sh" browser ${SERVE_SCREENSHOT:-}
