#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# layout.sh [RELEASE|FLAVOUR] [OUT]
#
# The cache-line layout of struct atomic_alloc_pool and struct aa_cpu as the
# compiler laid them out, from pahole (package dwarves, scripts/deps.sh), in
# a stamped results file that Documentation/atomic_alloc.rst quotes.
#
# Builds atomic_alloc.ko with W=1 and debug info (EXTRA_CFLAGS=-g) against
# the Debian headers of RELEASE (default: the newest 6.12 generic headers)
# in a private build dir, $AA_RUN/layout/RELEASE (not the shared build dir
# of build-module.sh: its objects must not change flags under it), runs
# pahole on the module and writes OUT (default: results/layout.md in the
# repo), stamped by scripts/results.py like every results file.
#
# The file's "Checks" say whether the layout keeps what atomic_alloc.c
# promises: the fields every fast path reads (those before shared_owner)
# share no cache line with tier 2 (shared_owner .. shared, written by every
# tier-2 operation from any CPU), and neither shares one with the deferred
# frees and the worker's fields (overflow onwards, written by frees that
# found every reserve full).  A check that does not hold fails the script
# (exit 1), after writing the file, so that the documentation cannot quote
# a layout the code does not have without saying "missed".
#
# Prints "AA-RESULT layout passed=P failed=F log=LOG".
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

release=$(aa_release "${1:-6.12}")
out=${2:-$AA_REPO/results/layout.md}
hdr=/usr/src/linux-headers-$release
[ -f "$hdr/Makefile" ] ||
	aa_die "no kernel headers for $release in $hdr; install linux-headers-$release (scripts/deps.sh)"
aa_need_cmd make gcc rsync timeout python3 pahole

dir=$AA_RUN/layout/$release
log=$AA_LOGS/layout-$release.log
results=$AA_REPO/scripts/results.py
mkdir -p "$AA_LOGS" "$dir"
aa_lock "layout-$release" "$AA_RUN"

begin=$(mktemp)
trap 'rm -f "$begin"' EXIT
python3 "$results" stamp --begin >"$begin"

aa_sync_tree "$dir"
aa_info "building atomic_alloc.ko with -g against $release ($dir)"
aa_timer_start
# Only the pool's module: the layout is its own.
if ! timeout -k 10 "${AA_BUILD_TIMEOUT:-900}" \
	make -C "$hdr" M="$dir" W=1 EXTRA_CFLAGS=-g \
	CONFIG_ATOMIC_ALLOC_AUDIO_SIM= -j"$(nproc)" modules >"$log" 2>&1; then
	rm -f "$dir/.aa-sync"
	tail -n 30 "$log" >&2
	aa_die "build against $release failed (log: $log)"
fi
if grep -E -i -q 'warning:' "$log"; then
	rm -f "$dir/.aa-sync"
	awk 'tolower($0) ~ /warning:/ && n++ < 30' "$log" >&2
	aa_die "build against $release printed warnings; W=1 builds must be clean (log: $log)"
fi
ko=$dir/atomic_alloc.ko
[ -f "$ko" ] || aa_die "no $ko after the build (log: $log)"
aa_info "built in $(aa_elapsed)"

# x86_64: L1_CACHE_SHIFT is CONFIG_X86_L1_CACHE_SHIFT; SMP_CACHE_BYTES and
# ____cacheline_aligned_in_smp follow it.
shift_bits=$(sed -n 's/^CONFIG_X86_L1_CACHE_SHIFT=//p' "$hdr/.config")
line=$((1 << ${shift_bits:-6}))
pahole_ver=$(pahole --version)
pool_txt=$(pahole --cacheline_size="$line" -C atomic_alloc_pool "$ko" 2>>"$log")
cpu_txt=$(pahole --cacheline_size="$line" -C aa_cpu "$ko" 2>>"$log")
if [ -z "$pool_txt" ] || [ -z "$cpu_txt" ]; then
	aa_die "pahole found no struct atomic_alloc_pool or aa_cpu in $ko (log: $log)"
fi
stamp=$(python3 "$results" stamp --end "$begin" --kernel "$release" \
	--by "scripts/layout.sh${*:+ $*}")

tmp=$out.tmp
set +e
POOL="$pool_txt" CPU="$cpu_txt" LINE=$line RELEASE=$release \
	PAHOLE="$pahole_ver" STAMP="$stamp" python3 - >"$tmp" <<'EOF'
import os, re, sys

line = int(os.environ['LINE'])
pool, cpu = os.environ['POOL'], os.environ['CPU']

def fields(text):
    """(name, offset, size) of each member pahole printed at depth 1."""
    out = []
    for l in text.splitlines():
        if not l.startswith('\t') or l.startswith('\t\t'):
            continue
        m = re.search(r'\b(\w+)(\[\d*\])?(\s+__attribute__\(\(.*\)\))?;'
                      r'\s*/\*\s*(\d+)(?::\d+)?\s+(\d+)\s*\*/', l)
        if m:
            out.append((m.group(1), int(m.group(4)), int(m.group(5))))
    return out

def size_of(text):
    m = re.search(r'/\* size: (\d+)', text)
    return int(m.group(1)) if m else 0

f = fields(pool)
names = [n for n, _, _ in f]
for need in ('cpu', 'dead', 'shared_owner', 'shared', 'overflow'):
    if need not in names:
        sys.stderr.write('layout.sh: struct atomic_alloc_pool has no %s\n'
                         % need)
        sys.exit(2)
i2, i3 = names.index('shared_owner'), names.index('overflow')
groups = [('fast path (read-mostly)', f[:i2]),
          ('tier 2 (shared reserve)', f[i2:i3]),
          ('deferred frees and worker', f[i3:])]

def lines_of(group):
    s = set()
    for _, off, size in group:
        for b in range(off, off + max(size, 1)):
            s.add(b // line)
    return s

def span(group):
    first, last = group[0], group[-1]
    return '%s (byte %d) to %s (byte %d)' % (
        first[0], first[1], last[0], last[1] + last[2] - 1)

def cl(s):
    return ', '.join(str(x) for x in sorted(s))

checks = []
for (an, a), (bn, b) in ((groups[0], groups[1]), (groups[0], groups[2]),
                         (groups[1], groups[2])):
    la, lb = lines_of(a), lines_of(b)
    ok = not (la & lb)
    checks.append(('%s and %s: no cache line in common' % (an, bn), ok,
                   'lines %s against lines %s' % (cl(la), cl(lb)) +
                   ('' if ok else '; shared: %s' % cl(la & lb))))

print(os.environ['STAMP'])
print('# Cache-line layout (`scripts/layout.sh`)')
print()
print('atomic_alloc.ko built `W=1` with debug info (`EXTRA_CFLAGS=-g`) '
      'against %s; pahole %s on the module; cache lines of %d bytes '
      '(`SMP_CACHE_BYTES`, from `CONFIG_X86_L1_CACHE_SHIFT`).  '
      'struct atomic_alloc_pool is %d bytes, kzalloc()ed in a power-of-two '
      'size, so it starts on a cache line; struct aa_cpu is per-CPU '
      '(`__alloc_percpu_gfp()`), one per CPU and pool, written only by its '
      'CPU\'s own operations and read by the worker and the stats.'
      % (os.environ['RELEASE'], os.environ['PAHOLE'], line, size_of(pool)))
print()
print('## Checks')
print()
print('| check | result | cache lines |')
print('|---|---|---|')
for what, ok, detail in checks:
    print('| %s | **%s** | %s |' % (what, 'met' if ok else 'missed', detail))
print()
print('## Groups')
print()
print('| group | fields | cache lines |')
print('|---|---|---|')
for name, g in groups:
    print('| %s | %s | %s |' % (name, span(g), cl(lines_of(g))))
print()
print('## struct atomic_alloc_pool')
print()
print('```')
print(pool.rstrip())
print('```')
print()
print('## struct aa_cpu')
print()
print('```')
print(cpu.rstrip())
print('```')
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
EOF
rc=$?
set -e
[ "$rc" -le 1 ] || { rm -f "$tmp"; aa_die "could not read pahole's output (log: $log)"; }
mv "$tmp" "$out"
aa_info "wrote $out"
passed=0 failed=0
while IFS= read -r l; do
	case $l in
	*'**met**'*) passed=$((passed + 1)); echo "ok - layout: ${l#| }" | sed 's/ | \*\*met.*//' ;;
	*'**missed**'*) failed=$((failed + 1)); echo "not ok - layout: ${l#| }" | sed 's/ | \*\*missed.*//' ;;
	esac
done < <(sed -n '/^## Checks/,/^## Groups/p' "$out")
echo "AA-RESULT layout passed=$passed failed=$failed log=$log"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
