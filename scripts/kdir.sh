#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kdir.sh                        print the default kernel build tree
# kdir.sh --check DIR [--default]
#                                exit 0 if DIR is a configured kernel build
#                                tree; else say why not, which trees are
#                                installed and how to get the one asked for
#
# The default is the running kernel's build tree when it exists (a dev
# box), else the newest installed Debian linux-headers-*-amd64 (generic,
# not -rt).  The Makefile passes --default when the user did not choose
# KDIR; then, if the tree is not the running kernel's, --check says which
# kernel the build is for, so that nobody loads a module built for
# another kernel by surprise.
#
# The messages go to stderr.  For the tests (scripts/makefile-check.sh)
# the running release and the directories searched can be overridden:
# AA_KDIR_RUNNING (default: uname -r), AA_KDIR_HEADERS (default: /usr/src),
# AA_KDIR_MODULES (default: /lib/modules).
set -u

running=${AA_KDIR_RUNNING:-$(uname -r)}
headers=${AA_KDIR_HEADERS:-/usr/src}
modules=${AA_KDIR_MODULES:-/lib/modules}

say() {
	echo "atomic_alloc: $*" >&2
}

# configured DIR: a kernel build tree that kbuild can build modules against.
configured() {
	[ -f "$1/Makefile" ] && [ -f "$1/include/config/auto.conf" ]
}

# release_of DIR: the kernel release DIR is for, from its
# include/config/kernel.release or from its Debian name
# (/usr/src/linux-headers-REL, /lib/modules/REL/build); nothing if unknown.
release_of() {
	local d=${1%/} r
	case $d in
	*/linux-headers-*)
		echo "${d##*/linux-headers-}"
		return
		;;
	*/lib/modules/*/build | */lib/modules/*/source)
		d=${d%/*}
		echo "${d##*/}"
		return
		;;
	esac
	if [ -r "$d/include/config/kernel.release" ]; then
		r=$(head -n 1 "$d/include/config/kernel.release")
		[ -n "$r" ] && echo "$r"
	fi
}

# installed: every configured build tree, one "DIR RELEASE" line each.
installed() {
	local d seen=" " real
	for d in "$headers"/linux-headers-* "$modules"/*/build; do
		configured "$d" || continue
		real=$(readlink -f "$d")
		case $seen in *" $real "*) continue ;; esac
		seen+="$real "
		echo "$d $(release_of "$d")"
	done
}

# apt_candidate PKG: PKG's candidate version if apt knows one.
apt_candidate() {
	command -v apt-cache >/dev/null 2>&1 || return 1
	local v
	v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$v" ] && [ "$v" != "(none)" ] && echo "$v"
}

# how_to_get REL: the apt-get lines for the headers of release REL: the
# exact package if apt knows it, and the package that follows the newest
# release of the same series and flavour (6.1 rt, 6.12 generic, ...).
how_to_get() {
	local rel=$1 series flavour p v said=no
	series=$(sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p' <<<"$rel")
	# 6.1.0-57-rt-amd64 -> rt-amd64; 6.12.117+deb12-amd64 -> amd64
	flavour=$(sed -n -E 's/^[0-9][0-9.]*(-[0-9]+|\+[^-]+)-(.+)$/\2/p' <<<"$rel")
	if apt_candidate "linux-headers-$rel" >/dev/null; then
		say "to build for $rel: apt-get install linux-headers-$rel"
		said=yes
	fi
	if [ -n "$series" ] && [ -n "$flavour" ]; then
		for p in "linux-headers-$series-$flavour" "linux-headers-$flavour"; do
			v=$(apt_candidate "$p") || continue
			case $v in "$series".*) ;; *) continue ;; esac
			say "for the newest $series $flavour headers instead: apt-get install $p (version $v)"
			said=yes
			break
		done
	fi
	if [ "$said" = no ]; then
		say "apt knows no headers for $rel here: 'apt-get install linux-headers-$rel' after 'apt-get update', or get the build tree from wherever that kernel came from"
	fi
}

list_installed() {
	local lines d r
	lines=$(installed)
	if [ -z "$lines" ]; then
		say "no kernel build tree is installed (none in $modules/*/build or $headers/linux-headers-*)"
		return
	fi
	say "installed kernel build trees (make KDIR=<one of these>):"
	while read -r d r; do
		printf '    %-48s %s\n' "$d" "$r" >&2
	done <<<"$lines"
}

if [ "${1:-}" = "--check" ]; then
	d=${2:-}
	default=no
	[ "${3:-}" = "--default" ] && default=yes
	if [ -z "$d" ]; then
		say "no kernel build tree found: the running kernel $running has no $modules/$running/build and no $headers/linux-headers-*-amd64 is installed"
		list_installed
		how_to_get "$running"
		say "or pass KDIR=/path/to/kernel/build"
		exit 1
	fi
	if ! configured "$d"; then
		if [ ! -e "$d" ]; then
			why="does not exist"
		elif [ ! -f "$d/Makefile" ]; then
			why="has no Makefile: not a kernel build tree"
		else
			why="is not configured (no include/config/auto.conf; in a kernel source tree, run 'make olddefconfig modules_prepare' first)"
		fi
		say "KDIR=$d $why"
		list_installed
		rel=$(release_of "$d")
		case $rel in
		*-common | *-common-rt)
			say "(linux-headers-$rel is the part Debian's header packages share, not a build tree: use the linux-headers-${rel%-common*}-<flavour> beside it)"
			exit 1
			;;
		esac
		if [ -n "$rel" ]; then
			how_to_get "$rel"
		else
			say "cannot tell which kernel KDIR=$d is meant for; pick one of the trees above"
		fi
		exit 1
	fi
	if [ "$default" = yes ] && [ "$(readlink -f "$d")" != "$(readlink -f "$modules/$running/build")" ]; then
		say "the running kernel $running has no $modules/$running/build; building for $(release_of "$d") ($d) instead: pass KDIR=... to choose, 'make help' lists how"
	fi
	exit 0
fi

if configured "$modules/$running/build"; then
	echo "$modules/$running/build"
	exit 0
fi
for d in "$headers"/linux-headers-*-amd64; do
	case $d in *-rt-amd64) continue ;; esac
	configured "$d" && echo "$d"
done | sort -V | tail -n 1
