#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-post-build.sh DIR: dkms.conf's POST_BUILD.  DKMS runs it in its build
# directory after a build, before it cleans up; it keeps what an outside
# driver needs to build against the modules just built in DIR, DKMS's own
# directory for this kernel (/var/lib/dkms/atomic_alloc/VERSION/RELEASE/ARCH,
# next to module/ and log/; `dkms remove` deletes it):
#
#   DIR/Module.symvers           the symbols atomic_alloc.ko exports
#   DIR/include/atomic_alloc.h   the API
#
# An outside driver: make -C /lib/modules/RELEASE/build M=$PWD
#   KBUILD_EXTRA_SYMBOLS=DIR/Module.symvers, with -IDIR/include.
set -eu

dir=${1:?usage: dkms-post-build.sh DIR}
[ -f Module.symvers ] || {
	echo "dkms-post-build.sh: no Module.symvers in $(pwd)" >&2
	exit 1
}
mkdir -p "$dir/include"
cp Module.symvers "$dir/Module.symvers"
cp atomic_alloc.h "$dir/include/atomic_alloc.h"
echo "atomic_alloc: kept $dir/Module.symvers and $dir/include/atomic_alloc.h for outside drivers"
