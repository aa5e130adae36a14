#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kdir.sh            print the default kernel build tree to build against
# kdir.sh --check D  exit 0 if D is a usable build tree, else say what to do
#
# Default: the running kernel's build tree when it exists (a dev box), else
# the newest installed Debian linux-headers-*-amd64 (generic, not -rt).
set -u

if [ "${1:-}" = "--check" ]; then
	d=${2:-}
	if [ -z "$d" ]; then
		echo "atomic_alloc: no kernel headers found; install them with 'apt-get install linux-headers-6.12-amd64' (or run 'make check', which installs them), or pass KDIR=/path/to/kernel/build" >&2
		exit 1
	fi
	if [ ! -f "$d/Makefile" ] || { [ ! -f "$d/include/config/auto.conf" ] && [ ! -f "$d/.config" ]; }; then
		echo "atomic_alloc: KDIR=$d is not a configured kernel build tree; install headers with 'apt-get install linux-headers-6.12-amd64' or pass KDIR=/path/to/kernel/build" >&2
		exit 1
	fi
	exit 0
fi

running=/lib/modules/$(uname -r)/build
if [ -f "$running/Makefile" ]; then
	echo "$running"
	exit 0
fi
ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | grep -v -- '-rt-amd64$' |
	sort -V | tail -n 1
