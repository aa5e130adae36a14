# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree wrapper.  Kbuild holds the kbuild rules; this file only calls
# the kernel's build system and the project's scripts.
#
#   make [KDIR=/lib/modules/<release>/build]   build the modules
#   make demo     build, boot Debian 6.12 under QEMU, stream, print results
#   make check    every test: KUnit under QEMU, stock kernels, static checks
#   make bench    the benchmark (bench/results/), not part of check
#   make soak     ten minutes of streaming on 6.12-rt, not part of check
#   make docs     Documentation/atomic_alloc.rst with Sphinx
#   make static   checkpatch --strict, kernel-doc, sparse
#   make dkms-check   dkms add/build/install against the 6.12 headers

KDIR ?= $(shell $(CURDIR)/scripts/kdir.sh)

all: modules

modules:
	@$(CURDIR)/scripts/kdir.sh --check "$(KDIR)"
	$(MAKE) -C "$(KDIR)" M=$(CURDIR) modules

clean:
	@if $(CURDIR)/scripts/kdir.sh --check "$(KDIR)" 2>/dev/null; then \
		$(MAKE) -C "$(KDIR)" M=$(CURDIR) clean; \
	else \
		rm -f *.o *.ko *.mod *.mod.c .*.cmd tests/*.o tests/.*.cmd \
		      modules.order Module.symvers; \
	fi

demo:
	$(CURDIR)/scripts/demo.sh

check:
	$(CURDIR)/scripts/check.sh

bench:
	$(CURDIR)/scripts/bench.sh

soak:
	$(CURDIR)/scripts/soak.sh

docs:
	$(CURDIR)/scripts/docs.sh

static:
	$(CURDIR)/scripts/static.sh

dkms-check:
	$(CURDIR)/scripts/dkms-check.sh

.PHONY: all modules clean demo check bench soak docs static dkms-check
