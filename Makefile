# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree wrapper.  Kbuild holds the kbuild rules; this file only calls
# the kernel's build system and the project's scripts.
#
#   make [KDIR=/lib/modules/<release>/build]   build the modules
#   make demo     build, boot Debian 6.12 under QEMU, stream, print results
#   make check    every test: KUnit under QEMU, stock kernels, static checks

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

.PHONY: all modules clean demo check
