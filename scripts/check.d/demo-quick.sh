#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh stage demo-quick: the labyrinth demo in short form (scripts/demo.sh
# --quick: 10 s of streaming on the stock 6.12 kernel).  It asserts, in the
# guest, that the naive order-2 stream (alloc_pages(GFP_ATOMIC, 2) in its
# period interrupt) loses at least half its blocks, that the pool loses none
# and never reaches the page allocator (alloc_direct == 0), that every page
# comes back (atomic_alloc's pages_held 0, the labyrinth released, used
# memory back), that 3 s of 192 kHz / 24-bit audio played through the card
# (aplay on hw:AtomicAlloc,0) come back bit for bit from arecord on
# hw:AtomicAlloc,1 with no xrun, and on the host that the kernel log has no
# report and the report was written.  Prints AA-RESULT demo-quick-6.12 ...
exec "$(dirname "$0")/../demo.sh" --quick "$@"
