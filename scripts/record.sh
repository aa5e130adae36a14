#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# record.sh check [--from-last-run] [--allow-failures]
# record.sh bench [ARGS for scripts/bench.sh]
# record.sh soak [SECONDS]
# record.sh demo [ARGS for scripts/demo.sh]
# record.sh memory [CONFIG] [--from-last-run]
#
# Re-record one kind of results into the repo, then regenerate the regions
# of README.md and Documentation/ that quote them (scripts/results.py
# update).  One command each; commit what it changed afterwards.
#
#   check   run ./scripts/check.sh (every stage: AA_STAGES must be unset)
#           and copy its stamped results file, $AA_RUN/results/check.md, to
#           results/check.md.  --from-last-run copies the last run's file
#           without running again.  A run with failures is not recorded
#           unless --allow-failures.
#   bench   run scripts/bench.sh (it writes bench/results/); stamp the
#           reports it wrote.
#   soak    run scripts/soak.sh (it writes bench/results/soak-*.md); stamp
#           the report.
#   demo    run scripts/demo.sh --record (it writes bench/results/demo-*);
#           stamp the report.
#   memory  run scripts/kunit.sh CONFIG (arm64-64k unless named) and copy the
#           memory-ratio report it wrote and stamped,
#           $AA_RUN/results/memory-CONFIG.md, to bench/results/.
#           --from-last-run copies the last run's report without running
#           again.  The report carries its own verdicts: it is recorded
#           even when another KUnit case of the run failed (with a warning).
#
# Stamps (see scripts/results.py) carry the commit the run began at; commit
# your code first, or the stamp says dirty=yes and every quoting region
# says "with uncommitted changes".  A report that its script stamped itself
# is left as it is.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

here=$AA_REPO/scripts
results=$here/results.py
kind=${1:-}
[ $# -gt 0 ] && shift

usage() {
	aa_usage "$0" 4,8
}

qemu_version() {
	qemu-system-x86_64 --version 2>/dev/null |
		sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p'
}

warn_dirty() {
	if [ -n "$(git -C "$AA_REPO" status --porcelain -- . ':(exclude)*.md' \
		':(exclude)Documentation' ':(exclude)results' \
		':(exclude)bench/results' 2>/dev/null)" ]; then
		aa_info "warning: the code has uncommitted changes; the results will be stamped dirty=yes"
	fi
}

# stamp_new_reports MARKER BEGIN BY: stamp every bench/results/*.md written
# since MARKER that has no stamp of its own.
stamp_new_reports() {
	local marker=$1 begin=$2 by=$3 f kernel line n=0
	while IFS= read -r f; do
		kernel=$(sed -n -e '1,5s/^# .*: \([^ ,]*\), QEMU.*/\1/p' \
			-e '1,5s/^Kernel \([^ ]*\) (Debian stock).*/\1/p' \
			-e "1,5s/^Run of commit .* on Debian's \([^ ]*\) under QEMU.*/\1/p" \
			"$f" | sed -n 1p)
		line=$(python3 "$results" stamp --end "$begin" \
			--kernel "${kernel:-unknown}" --qemu "$(qemu_version)" --by "$by")
		python3 "$results" add-stamp "$f" "$line"
		n=$((n + 1))
	done < <(find "$AA_REPO/bench/results" -maxdepth 1 -name '*.md' -newer "$marker")
	[ "$n" -gt 0 ] || aa_die "the run wrote no report into bench/results/"
}

case $kind in
check)
	from_last=no allow_fail=no
	for a in "$@"; do
		case $a in
		--from-last-run) from_last=yes ;;
		--allow-failures) allow_fail=yes ;;
		*) usage ;;
		esac
	done
	src=$AA_RUN/results/check.md
	if [ "$from_last" = no ]; then
		[ -z "${AA_STAGES:-}" ] ||
			aa_die "record.sh check records a run of every stage; unset AA_STAGES"
		warn_dirty
		"$here/check.sh" || aa_info "check.sh reported failures"
	fi
	[ -f "$src" ] || aa_die "no $src: run ./scripts/check.sh first"
	if grep -q '^\*\*.*; stages run: only ' "$src"; then
		aa_die "$src is of a run of some stages only (AA_STAGES); record a run of every stage"
	fi
	verdict=$(sed -n 's/^\*\*\([0-9]* passed, [0-9]* failed\)\*\*.*/\1/p' "$src")
	case $verdict in
	*" 0 failed") ;;
	*)
		[ "$allow_fail" = yes ] ||
			aa_die "$src says '$verdict'; fix the failures, or pass --allow-failures to publish them"
		;;
	esac
	mkdir -p "$AA_REPO/results"
	cp "$src" "$AA_REPO/results/check.md"
	aa_info "recorded $src as results/check.md ($verdict)"
	;;
bench | soak | demo)
	for a in "$@"; do
		case $a in
		--quick | --no-results | --record) aa_die "record.sh $kind records a full run; not '$a'" ;;
		esac
	done
	if [ "$kind" = demo ]; then
		set -- --record "$@"
	fi
	warn_dirty
	mkdir -p "$AA_RUN/results" "$AA_REPO/bench/results"
	begin=$AA_RUN/results/$kind.begin
	marker=$AA_RUN/results/$kind.marker
	python3 "$results" stamp --begin >"$begin"
	touch "$marker"
	# The file system's timestamps must tell the reports of this run apart.
	sleep 1
	rc=0
	"$here/$kind.sh" "$@" || rc=$?
	stamp_new_reports "$marker" "$begin" "scripts/$kind.sh${*:+ $*}"
	[ "$rc" -eq 0 ] || aa_info "warning: scripts/$kind.sh exited $rc; its report says how"
	;;
memory)
	config=arm64-64k from_last=no
	for a in "$@"; do
		case $a in
		--from-last-run) from_last=yes ;;
		-*) usage ;;
		*) config=$a ;;
		esac
	done
	src=$AA_RUN/results/memory-$config.md
	if [ "$from_last" = no ]; then
		warn_dirty
		"$here/kunit.sh" "$config" ||
			aa_info "warning: kunit.sh $config reported failures; the report says its own case's verdicts"
	fi
	[ -f "$src" ] ||
		aa_die "no $src: the memory-ratio case did not run in kunit.sh $config (or run it first)"
	mkdir -p "$AA_REPO/bench/results"
	cp "$src" "$AA_REPO/bench/results/memory-$config.md"
	aa_info "recorded $src as bench/results/memory-$config.md: $(sed -n 's/^\*\*Memory held.*: \(met\|missed\)\*\*.*/\1/p' "$src")"
	;;
*)
	usage
	;;
esac

python3 "$results" update
python3 "$results" status || true
aa_info "now commit the results and the documents: git add results bench/results README.md Documentation && git commit"
