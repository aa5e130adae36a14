#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""memory-report.py: the memory a pool of sub-page buffers holds, from a
KUnit run, as a stamped results file.

    memory-report.py --klog LOG --config CONFIG --begin BEGIN --out FILE
                     [--qemu VERSION] [--by COMMAND]

LOG is the raw kernel log of one scripts/kunit.sh run (<build_dir>/test.log).
The KUnit case atomic_alloc_buf.ab_test_memory_ratio (tests/
atomic_alloc_buf_kunit.c) prints one "memory-ratio:" line per format of the
demo's 256-frame periods, then its verdict ("ok N" / "not ok N").  This
script recomputes every ratio from the line's byte counts (it does not copy
the kernel's ratio_x1000, it checks it), and writes FILE: a table of the
formats, whether each is within the 1.25x target, and the stamp of the run
(results.py stamp --end BEGIN, the state of the tree when kunit.sh began).

Exits 0 when FILE was written, 1 when the log has no memory-ratio line (the
case did not run: nothing is written), 2 on bad arguments.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = 1.25

LINE_RE = re.compile(r'memory-ratio: (.*?)\s*$')
VERDICT_RE = re.compile(r'^\s*(?:\[[^\]]*\]\s*)?(not ok|ok) \d+ (.*?)\s*$')
KERNEL_RE = re.compile(r'Linux version (\S+)')


def parse(path):
    """The memory-ratio lines, each with the verdict of its case."""
    rows, kernel, pending = [], None, None
    with open(path, errors='replace') as f:
        for raw in f:
            line = raw.replace('\r', '').rstrip('\n')
            m = KERNEL_RE.search(line)
            if m and kernel is None:
                kernel = m.group(1)
            m = LINE_RE.search(line)
            if m:
                kv = dict(t.split('=', 1) for t in m.group(1).split()
                          if '=' in t)
                pending = kv
                rows.append(kv)
                continue
            m = VERDICT_RE.match(line)
            if m and pending is not None:
                pending['verdict'] = m.group(1)
                pending['case'] = m.group(2)
                pending = None
    return rows, kernel


def kib(n):
    return '%.1f KiB' % (n / 1024.0) if n % 1024 else '%d KiB' % (n // 1024)


def stamp_line(begin, kernel, qemu, by):
    cmd = [sys.executable, os.path.join(HERE, 'results.py'), 'stamp',
           '--end', begin, '--kernel', kernel or 'unknown']
    if qemu:
        cmd += ['--qemu', qemu]
    if by:
        cmd += ['--by', by]
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--klog', required=True)
    ap.add_argument('--config', required=True)
    ap.add_argument('--begin', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--qemu', default='')
    ap.add_argument('--by', default='')
    a = ap.parse_args()
    if not os.path.isfile(a.klog):
        sys.stderr.write('memory-report.py: no kernel log %s\n' % a.klog)
        return 2
    rows, kernel = parse(a.klog)
    if not rows:
        sys.stderr.write('memory-report.py: no memory-ratio line in %s\n'
                         % a.klog)
        return 1

    table, all_met, problems = [], True, []
    for r in rows:
        try:
            held = int(r['held_bytes'])
            bufs = int(r['buffer_bytes_total'])
            asked = int(r.get('asked_bytes', 0))
            page = int(r['page_size'])
            order = int(r['order'])
        except (KeyError, ValueError) as e:
            problems.append('a memory-ratio line without %s' % e)
            all_met = False
            continue
        ratio = held / bufs if bufs else None
        asked_ratio = held / asked if asked else None
        # The kernel's own figure must agree with the byte counts.
        if ratio is not None and \
                int(r.get('ratio_x1000', -1)) != held * 1000 // bufs:
            problems.append('%s: the kernel says ratio_x1000=%s, the bytes '
                            'give %d' % (r.get('format'), r.get('ratio_x1000'),
                                         held * 1000 // bufs))
        ok = r.get('verdict') == 'ok'
        met = ok and ratio is not None and ratio <= TARGET
        all_met = all_met and met
        table.append([
            r.get('format', '?'), r.get('buffer_bytes', '?'),
            '%s (order %d)' % (kib(page << order), order),
            r.get('stride', '?'), r.get('per_page', '?'),
            r.get('cpus', '?'), r.get('cpu_buffers', '?'),
            r.get('shared_buffers', '?'), r.get('buffers', '?'),
            r.get('pages', '?'), '%s (%d bytes)' % (kib(held), held),
            '%s (%d bytes)' % (kib(bufs), bufs),
            '**%.3fx**' % ratio if ratio is not None else 'n/a',
            '**met**' if met else '**missed**',
            '%.3fx' % asked_ratio if asked_ratio is not None else 'n/a',
            r.get('verdict', 'no verdict') + (' (%s)' % r['case']
                                              if 'case' in r else '')])
    all_met = all_met and not problems
    pages = sorted({int(r['page_size']) for r in rows if 'page_size' in r})
    title = ('Memory held by a pool of sub-page buffers: %s (%s pages)'
             % (a.config, ', '.join(kib(p) for p in pages) or '?'))
    qemu = a.qemu or 'unknown'
    out = [stamp_line(a.begin, kernel, a.qemu, a.by), '', '# ' + title, '',
           'One KUnit run (`%s`): kernel %s built from '
           'Debian\'s linux-source-6.12 with tests/.kunitconfig and '
           'tests/configs/, under QEMU %s (TCG, `-smp 4`). The case '
           '`atomic_alloc_buf.ab_test_memory_ratio` '
           '(tests/atomic_alloc_buf_kunit.c) creates the demo\'s pool for '
           '256-frame stereo periods: 66 buffers per CPU and 66 shared, '
           'mapped for a 32-bit device, at the smallest page order that '
           'wastes under 20%% of a page; then prints the bytes below. '
           'Every ratio here is recomputed from those bytes by '
           'scripts/memory-report.py.' % (a.by or 'scripts/kunit.sh ' + a.config,
                                          kernel or 'unknown', qemu),
           '',
           '## Result', '',
           '**Memory held <= %.2fx the bytes of the buffers held: %s** '
           '(%s).' % (TARGET, 'met' if all_met else 'missed',
                      '; '.join('%s %s' % (t[0], t[12].strip('*'))
                                for t in table)),
           '',
           '| format | buffer bytes | page | stride | buffers per page | CPUs '
           '| per CPU | shared | buffers held | pages held (PAGE_SIZE each) | memory held '
           '| bytes of the buffers held | ratio | <= %.2fx | ratio to the '
           'buffers asked for | KUnit |' % TARGET,
           '|' + '---|' * 16]
    for t in table:
        out.append('| ' + ' | '.join(str(c) for c in t) + ' |')
    out += ['',
            '## What is counted', '',
            '- Memory held: the pages the pool holds (`atomic_alloc_pool_pages()` '
            'times the page size), after `atomic_alloc_flush()`. The pool\'s '
            'bookkeeping is not counted: one kmalloc\'d struct aa_page per page, '
            'the per-CPU arrays (8 bytes a slot) and the shared reserve\'s '
            'array, a few KiB for the whole pool against hundreds of KiB of '
            'pages.',
            '- Buffers held: every buffer carved from those pages, in a tier, '
            'in the worker\'s surplus or out (`available + outstanding`); '
            'their bytes are buffer_bytes each, the stride\'s alignment '
            'padding excluded: the ratio counts it as waste.',
            '- Ratio to the buffers asked for: the same memory against '
            '(per CPU x CPUs online + shared) buffers of buffer_bytes; it '
            'also counts the buffers of a page that no tier asked for.']
    if problems:
        out += ['', '## Problems', ''] + ['- %s' % p for p in problems]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print('memory-report: %s: %s -> %s' % (
        a.config, '; '.join('%s %s %s' % (t[0], t[12].strip('*'), t[13].strip('*'))
                            for t in table), a.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
