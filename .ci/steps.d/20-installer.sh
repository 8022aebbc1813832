#!/usr/bin/env bash
# Issue 7: build the Linux package from this clone, install it on this machine, run the
# INSTALLED app's --self-test (QT_QPA_PLATFORM=offscreen), time its start-up, remove it.
set -euo pipefail
bash installer/build-linux.sh
bash installer/test-linux-package.sh
