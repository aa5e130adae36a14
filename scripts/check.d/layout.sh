#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh stage layout: scripts/layout.sh on the 6.12 headers, writing to
# $AA_RUN/results/layout.md (the repo's results/layout.md is re-recorded by
# running scripts/layout.sh itself).  Fails when struct atomic_alloc_pool's
# fast-path fields share a cache line with tier 2 or with the deferred
# frees, as pahole reads them from a W=1 -g build.  Prints AA-RESULT layout.
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../lib.sh"
mkdir -p "$AA_RUN/results"
exec "$(dirname "$0")/../layout.sh" 6.12 "$AA_RUN/results/layout.md"
