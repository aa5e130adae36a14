#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: THE test command (.ci/run runs it; so does `make check`).
#
# Stages, in order (each one bounds its own time):
#   deps            scripts/deps.sh: packages, headers, kernel images
#   build-FLAVOUR   W=1 out-of-tree build, no warning (6.1, 6.1-rt, 6.12, 6.12-rt)
#   stock-FLAVOUR   boot Debian's own kernel with the modules, guest checks,
#                   the sound card with aplay/arecord (6.1, 6.1-rt, 6.12,
#                   6.12-rt)
#   static          checkpatch --strict, kernel-doc, sparse (scripts/static.sh)
#   docs            Documentation/ builds with Sphinx, warnings as errors; the
#                   results regions of README.md and Documentation/ match their
#                   results files; README's claims match the tree
#   snippets        every C snippet of README.md and Documentation/ builds W=1,
#                   against the 6.12 headers, checkpatch-clean (snippets.sh)
#   makefile        make help, make samples, KDIR messages, ATOMIC_ALLOC_DEBUG
#                   (scripts/makefile-check.sh)
#   pressure-6.12   the shrinker and a stream in a 256 MiB guest
#   storm-FLAVOUR   100,000 NMIs at a CPU looping the pool, the handler
#                   allocating too (atomic_alloc_storm.ko; 6.1, 6.12, 6.12-rt)
#   example-FLAVOUR the consumer example in samples/, built against
#                   Module.symvers and run in hard IRQ (scripts/example.sh)
#   dkms            dkms add/build/install against the 6.12 headers
#   bench-quick     the benchmark module builds, loads and self-checks (not
#                   the benchmark itself: that is make bench)
#   kunit-CONFIG    KUnit suites under QEMU (scripts/kunit.sh): x86_64 smp,
#                   rt and kcsan; arm64 with 4, 16 and 64 KiB pages
#                   (arm64-4k, arm64-16k, arm64-64k) and arm64-debug (64 KiB
#                   pages, PREEMPT_RT, lockdep, KASAN, kmemleak)
#   kunit-debug     RT + lockdep + KASAN + kmemleak kernel, modules loaded
#                   from an initramfs, fault injection (scripts/debug.sh)
#   check.d/*.sh    any executable scripts/check.d/NAME.sh, as stage NAME
#
# A stage that fails does not stop the run.  At the end: a table, one row per
# stage, and as the very last line "N passed, N failed", N counting every
# KUnit case of both configs and every harness check.  Exit 1 on any failure.
#
# The summary and the reliability table are also written, stamped with the
# commit, kernels and QEMU version (scripts/results.py), to
# $AA_RUN/results/check.md; `scripts/record.sh check --from-last-run` records
# that file into the repo as results/check.md, which README.md and
# Documentation/ quote.  Before the last line, `results.py status` says
# which quoted results files are older than the code (AA_RESULTS_STRICT=1
# makes that a failure).
#
# AA_STAGES="build-6.12 stock-6.12" runs only the stages named (deps always).
#
# Adding a stage: add a line to the STAGES list below ("NAME command args"),
# or drop an executable scripts/check.d/NAME.sh.  A stage command may print
# "AA-RESULT NAME passed=P failed=F [skipped=S] log=PATH" (see lib.sh);
# without it, exit status 0 counts as one passed check, anything else as one
# failed check.
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$AA_REPO/scripts
cd "$AA_REPO" || exit 1

STAGES=(
	"deps $here/deps.sh"
	"static $here/static.sh"
	"docs $here/docs.sh"
	"snippets $here/snippets.sh 6.12"
	"makefile $here/makefile-check.sh"
	"build-6.1 build_stage 6.1"
	"build-6.1-rt build_stage 6.1-rt"
	"build-6.12 build_stage 6.12"
	"build-6.12-rt build_stage 6.12-rt"
	"stock-6.1 $here/stock.sh 6.1"
	"stock-6.1-rt $here/stock.sh 6.1-rt"
	"stock-6.12 $here/stock.sh 6.12"
	"stock-6.12-rt $here/stock.sh 6.12-rt"
	"pressure-6.12 $here/stock.sh 6.12 pressure -m 256"
	"storm-6.1 $here/stock.sh 6.1 storm"
	"storm-6.12 $here/stock.sh 6.12 storm"
	"storm-6.12-rt $here/stock.sh 6.12-rt storm"
	"example-6.12 $here/example.sh 6.12"
	"example-6.12-rt $here/example.sh 6.12-rt"
	"dkms $here/dkms-check.sh 6.12"
	"bench-quick $here/bench.sh --quick"
	"kunit-smp $here/kunit.sh smp"
	"kunit-rt $here/kunit.sh rt"
	"kunit-kcsan $here/kunit.sh kcsan"
	"kunit-debug $here/debug.sh"
	"kunit-arm64-4k $here/kunit.sh arm64-4k"
	"kunit-arm64-16k $here/kunit.sh arm64-16k"
	"kunit-arm64-64k $here/kunit.sh arm64-64k"
	"kunit-arm64-debug $here/kunit.sh arm64-debug"
)
if [ -d "$here/check.d" ]; then
	for f in "$here"/check.d/*.sh; do
		[ -x "$f" ] || continue
		n=$(basename "$f" .sh)
		STAGES+=("$n $f")
	done
fi

# check.sh --list-stages: the stage names, one a line (the docs stage checks
# README's stage table against them).
if [ "${1:-}" = --list-stages ]; then
	for entry in "${STAGES[@]}"; do
		echo "${entry%% *}"
	done
	exit 0
fi

# build_stage FLAVOUR: build-module.sh as one check, with its build log.
build_stage() {
	local rel
	rel=$(aa_release "$1") || {
		aa_result "build-$1" 0 1 -
		return 1
	}
	if "$here/build-module.sh" "$rel" >/dev/null; then
		aa_result "build-$1" 1 0 "$AA_LOGS/build-$rel.log"
	else
		aa_result "build-$1" 0 1 "$AA_LOGS/build-$rel.log"
		return 1
	fi
}

mkdir -p "$AA_LOGS" "$AA_RUN/results"
results_begin=$AA_RUN/results/check.begin
results_rows=$AA_RUN/results/check.rows
python3 "$here/results.py" stamp --begin >"$results_begin" 2>/dev/null ||
	echo '{"commit": null}' >"$results_begin"
: >"$results_rows"
rows=()
total_pass=0 total_fail=0 total_skip=0
failed_stages=()
t_start=$SECONDS

wanted() {
	[ -z "${AA_STAGES:-}" ] && return 0
	[ "$1" = deps ] && return 0
	case " $AA_STAGES " in *" $1 "*) return 0 ;; esac
	return 1
}

# run_stage NAME CMD [ARGS...]
run_stage() {
	local name=$1 out p f s l line rc t0
	shift
	out=$AA_LOGS/stage-$name.out
	t0=$SECONDS
	echo
	echo "=== $name: $* ==="
	"$@" </dev/null 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -a '^AA-RESULT ' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -n 's/.* passed=\([0-9]*\).*/\1/p' <<<"$line")
		f=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
		s=$(sed -n 's/.* skipped=\([0-9]*\).*/\1/p' <<<"$line")
		l=$(sed -n 's/.* log=\(.*\)$/\1/p' <<<"$line")
		p=${p:-0} f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "atomic_alloc: $name exited $rc but reported no failure; counting one"
			f=1
		fi
	else
		# A plain command: one check.  Its log is the one it named, if any.
		p=0 f=0 s=""
		if [ "$rc" -eq 0 ]; then p=1; else f=1; fi
		l=$(grep -a -o 'log: [^ )]*' "$out" | tail -n 1 | cut -d' ' -f2)
		l=${l:-$out}
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	[ "$f" -eq 0 ] || failed_stages+=("$name")
	rows+=("$(printf '%-18s %6s %6s %7s %6ss  %s' "$name" "$p" "$f" "${s:--}" "$((SECONDS - t0))" "$l")")
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$p" "$f" "${s:-}" "$((SECONDS - t0))" >>"$results_rows"
}

# The KUnit kernels are built in the background, in the order of their
# stages, while the guest stages before them run and while each KUnit
# stage's guest runs (scripts/prebuild.sh; AA_PREBUILD=0 turns it off).
# kunit-debug comes before the arm64 stages: its guest runs longest (over
# twenty minutes of a cold run, sharing the two cores with the arm64 builds).
prebuild=()
for entry in "${STAGES[@]}"; do
	read -r -a cmd <<<"$entry"
	wanted "${cmd[0]}" || continue
	case ${cmd[0]} in
	kunit-debug) prebuild+=(debug) ;;
	kunit-*) prebuild+=("${cmd[0]#kunit-}") ;;
	esac
done
prebuild_pid=""

known=" "
for entry in "${STAGES[@]}"; do
	read -r -a cmd <<<"$entry"
	name=${cmd[0]}
	known+="$name "
	wanted "$name" || continue
	run_stage "$name" "${cmd[@]:1}"
	if [ "$name" = deps ] && [ "${#prebuild[@]}" -gt 0 ] &&
		[ "${AA_PREBUILD:-1}" = 1 ]; then
		rm -f "$AA_LOGS/prebuild.log"
		# Its own process group, so that the end of check.sh can stop it
		# whole, kunit.py and make included.
		setsid "$here/prebuild.sh" "${prebuild[@]}" </dev/null &
		prebuild_pid=$!
		echo "atomic_alloc: building the KUnit kernels in the background (${prebuild[*]}; log $AA_LOGS/prebuild.log)"
	fi
done
# Every KUnit stage has run: what the prebuild still does is not needed.
if [ -n "$prebuild_pid" ]; then
	kill -TERM -- "-$prebuild_pid" 2>/dev/null
	wait "$prebuild_pid" 2>/dev/null
fi
for name in ${AA_STAGES:-}; do
	case $known in *" $name "*) continue ;; esac
	echo "atomic_alloc: error: AA_STAGES names an unknown stage '$name' (stages:$known)"
	total_fail=$((total_fail + 1))
	failed_stages+=("$name")
	rows+=("$(printf '%-18s %6s %6s %7s %6ss  %s' "$name" 0 1 - 0 "unknown stage")")
	printf '%s\t0\t1\t\t0\n' "$name" >>"$results_rows"
done

echo
echo "=== atomic_alloc check summary ($((SECONDS - t_start))s) ==="
printf '%-18s %6s %6s %7s %7s  %s\n' stage passed failed skipped time log
for r in "${rows[@]}"; do
	echo "$r"
done
# The guests' reliability rows (AA-REL) and notification latencies
# (AA-NOTIFY), from every stage's output, in stage order.
rel_rows=() notify_rows=()
for entry in "${STAGES[@]}"; do
	read -r -a cmd <<<"$entry"
	f=$AA_LOGS/stage-${cmd[0]}.out
	if [ ! -f "$f" ] || ! wanted "${cmd[0]}"; then
		continue
	fi
	while IFS= read -r line; do
		case $line in
		"AA-REL "*) rel_rows+=("${cmd[0]}|${line#AA-REL }") ;;
		"AA-NOTIFY "*) notify_rows+=("${line#AA-NOTIFY }") ;;
		esac
	done < <(grep -a -E '^AA-(REL|NOTIFY) ' "$f" || true)
done
if [ "${#rel_rows[@]}" -gt 0 ]; then
	echo
	echo "=== reliability: faults injected, what was counted, pages lost ==="
	printf '%-14s | %-30s | %-38s | %-62s | %s\n' stage scenario injected counted "pages lost"
	for r in "${rel_rows[@]}"; do
		IFS='|' read -r st a b c d <<<"$r"
		printf '%-14s | %-30s | %-38s | %-62s | %s\n' "$st" "$a" "$b" "$c" "$d"
	done
fi

# The results file of this run (see the top of this file).
write_results() {
	local out=$AA_RUN/results/check.md rel=$AA_RUN/results/check.rel
	local notify=$AA_RUN/results/check.notify
	local kernels="" f r ksrc qemu accel stamp partial=()
	for f in 6.1 6.1-rt 6.12 6.12-rt; do
		r=$( (aa_release "$f") 2>/dev/null) && kernels+="${kernels:+,}$r"
	done
	ksrc=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' \
		"$AA_SRC/Makefile" 2>/dev/null | paste -sd.)
	[ -z "$ksrc" ] || kernels+="${kernels:+,}KUnit-linux-source-$ksrc"
	qemu=$(qemu-system-x86_64 --version 2>/dev/null |
		sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
	accel=$( (aa_accel_args) 2>/dev/null)
	printf '%s\n' "${rel_rows[@]}" | grep . >"$rel" || : >"$rel"
	printf '%s\n' "${notify_rows[@]}" | grep . >"$notify" || : >"$notify"
	[ -z "${AA_STAGES:-}" ] || partial=(--partial)
	stamp=$(python3 "$here/results.py" stamp --end "$results_begin" \
		--kernel "${kernels:-unknown}" --qemu "${qemu:-unknown}" \
		--by ./scripts/check.sh) &&
		python3 "$here/results.py" write-check --stamp "$stamp" \
			--rows "$results_rows" --rel "$rel" --notify "$notify" \
			--total "$total_pass" "$total_fail" "$total_skip" \
			--seconds "$((SECONDS - t_start))" --accel "${accel:-?}" \
			"${partial[@]}" --out "$out"
}
echo
if write_results; then
	echo "results of this run: $AA_RUN/results/check.md (into the repo: scripts/record.sh check --from-last-run)"
else
	echo "atomic_alloc: error: could not write $AA_RUN/results/check.md"
	total_fail=$((total_fail + 1))
	failed_stages+=("(results file)")
fi
python3 "$here/results.py" status || {
	total_fail=$((total_fail + 1))
	failed_stages+=("(stale results, AA_RESULTS_STRICT=1)")
}
if [ "${#failed_stages[@]}" -gt 0 ]; then
	# What failed, near the end, where a CI page that shows only the
	# tail of the output still has it.
	echo "=== what failed ==="
	for name in "${failed_stages[@]}"; do
		f=$AA_LOGS/stage-$name.out
		[ -f "$f" ] || continue
		why=$(grep -a -E '(^| )not ok |Failures: |^atomic_alloc: error: ' "$f" |
			sed -n 1,8p)
		# Nothing said why: its last lines, then.
		[ -n "$why" ] || why=$(grep -a -v '^AA-' "$f" | tail -n 6)
		printf '%s\n' "$why" | sed "s/^/$name: /"
	done
	echo "failed stages: ${failed_stages[*]} (see the logs above)"
fi
[ "$total_skip" -eq 0 ] || echo "skipped KUnit cases: $total_skip (not counted below)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
