# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree wrapper.  Kbuild holds the kbuild rules; this file only calls
# the kernel's build system and the project's scripts.  `make help` lists
# the targets and variables.

# KDIR: the kernel build tree.  When the user does not choose one,
# scripts/kdir.sh picks the running kernel's, else the newest installed
# Debian headers, and the build says which (KDIR_DEFAULT).
ifeq ($(origin KDIR),undefined)
KDIR := $(shell $(CURDIR)/scripts/kdir.sh)
KDIR_DEFAULT := --default
endif



all: modules

kdir-check:
	@$(CURDIR)/scripts/kdir.sh --check "$(KDIR)" $(KDIR_DEFAULT)

modules: kdir-check
	$(MAKE) -C "$(KDIR)" M=$(CURDIR) modules

# The consumer example, a module of its own, linked against the
# Module.symvers that `modules` has just written.
samples: modules
	$(MAKE) -C "$(KDIR)" M=$(CURDIR)/samples \
		KBUILD_EXTRA_SYMBOLS=$(CURDIR)/Module.symvers modules

modules_install: modules
	$(MAKE) -C "$(KDIR)" M=$(CURDIR) modules_install

clean:
	@if $(CURDIR)/scripts/kdir.sh --check "$(KDIR)" 2>/dev/null; then \
		$(MAKE) -C "$(KDIR)" M=$(CURDIR)/samples clean; \
		$(MAKE) -C "$(KDIR)" M=$(CURDIR) clean; \
	else \
		rm -f *.o *.ko *.mod *.mod.c .*.cmd tests/*.o tests/.*.cmd \
		      samples/*.o samples/*.ko samples/*.mod samples/*.mod.c \
		      samples/.*.cmd samples/modules.order samples/Module.symvers \
		      modules.order Module.symvers; \
	fi

demo check bench soak docs static:
	$(CURDIR)/scripts/$@.sh

dkms-check:
	$(CURDIR)/scripts/dkms-check.sh

results:
	$(CURDIR)/scripts/results.py update

record-check record-bench record-soak:
	$(CURDIR)/scripts/record.sh $(patsubst record-%,%,$@)

help:
	@echo 'Building (KDIR=<kernel build tree>; default: the running kernel'"'"'s,'
	@echo '          else the newest installed Debian linux-headers-*-amd64):'
	@echo '  modules          atomic_alloc.ko and atomic_alloc_audio.ko (the default)'
	@echo '  samples          modules, then samples/atomic_alloc_example.ko'
	@echo '                   linked against their fresh Module.symvers'
	@echo '  modules_install  install the modules for KDIR'"'"'s kernel (as root)'
	@echo '  clean            remove what the builds made'
	@echo ''
	@echo 'Testing (QEMU guests; nothing is loaded on this machine):'
	@echo '  check            every test, ends with "N passed, N failed"'
	@echo '  demo             boot Debian'"'"'s 6.12 and stream 192 kHz audio'
	@echo '  bench            the benchmark (bench/results/)'
	@echo '  soak             ten minutes of streaming on 6.12-rt'
	@echo '  static           checkpatch --strict, kernel-doc, sparse'
	@echo '  docs             Documentation/ with Sphinx, warnings as errors'
	@echo '  dkms-check       dkms add/build/install against the 6.12 headers'
	@echo ''
	@echo 'Results (README.md and Documentation/ quote them; see README):'
	@echo '  results          regenerate the quoted regions from the results files'
	@echo '  record-check     run check, record its results into results/check.md'
	@echo '  record-bench     run bench, stamp its reports in bench/results/'
	@echo '  record-soak      run soak, stamp bench/results/soak-*.md'
	@echo ''
	@echo 'Variables:'
	@echo '  KDIR=DIR              build against DIR, e.g.'
	@echo '                        KDIR=/usr/src/linux-headers-$$(uname -r)'
	@echo '  ATOMIC_ALLOC_DEBUG=1  double-free and foreign-page checks (0: off)'
	@echo '  W=1, C=2              passed to kbuild: extra warnings, sparse'

.PHONY: all kdir-check modules samples modules_install clean demo check \
	bench soak docs static dkms-check results record-check record-bench \
	record-soak help
