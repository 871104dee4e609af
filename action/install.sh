#!/usr/bin/env bash
# The action's install step: the suite from the action's own checkout (the tag the workflow pinned), into a
# virtualenv of its own under $RUNNER_TEMP, so the job's other Python packages neither see it nor break it.
# The run step gets the interpreter from this step's output "python".
set -euo pipefail

: "${GITHUB_ACTION_PATH:?the runner sets GITHUB_ACTION_PATH to the checkout of the action}"
: "${RUNNER_TEMP:?the runner sets RUNNER_TEMP}"
: "${GITHUB_OUTPUT:?the runner sets GITHUB_OUTPUT}"

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "::error title=Python 3.11+ needed::the suite needs Python 3.11 or later; found $(python3 --version 2>&1). Set python_version."
    exit 2
fi

venv="$RUNNER_TEMP/cekura-widget-conformance"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"
echo "Installed $("$venv/bin/python" -P -m conformance --version) from $GITHUB_ACTION_PATH"
echo "python=$venv/bin/python" >> "$GITHUB_OUTPUT"
