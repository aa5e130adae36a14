#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""docs-claims.py: what README.md and Documentation/*.rst say about the tree,
checked against the tree, one "ok - ..." or "not ok - ..." line each:

  - README's table of check.sh stages names every stage check.sh runs
    (./scripts/check.sh --list-stages), and no stage that it does not run;
    a name with "*" is a pattern (`build-*`);
  - every `make TARGET` the documents show is a target of the Makefile;
  - every scripts/... path they name exists;
  - every ATOMIC_ALLOC_* name they use is defined: in Kconfig, a header,
    Kbuild or the Makefile;
  - no kernel header tree is named by a release that is not installed here
    (documents say <release>: releases change, placeholders do not).

Exit status 1 if any check failed.
"""

import fnmatch
import glob
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failed = 0


def ok(msg):
    print('ok - docs: %s' % msg)


def not_ok(msg):
    global failed
    failed += 1
    print('not ok - docs: %s' % msg)


def read(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


def documents():
    docs = ['README.md'] + sorted(
        os.path.relpath(p, REPO)
        for p in glob.glob(os.path.join(REPO, 'Documentation', '*.rst')))
    return [(d, read(d)) for d in docs if os.path.isfile(os.path.join(REPO, d))]


def stage_table(readme):
    """The stage names of README's check.sh table, as written."""
    m = re.search(r'^## What `\./scripts/check\.sh` runs\n(.*?)(?=^## )',
                  readme, re.M | re.S)
    if not m:
        return None
    names = []
    for line in m.group(1).splitlines():
        if not line.startswith('|') or line.startswith('|---'):
            continue
        first = line.split('|')[1]
        names += re.findall(r'`([^`]+)`', first)
    return names


def check_stages(readme):
    out = subprocess.run([os.path.join(REPO, 'scripts', 'check.sh'),
                          '--list-stages'], stdout=subprocess.PIPE,
                         universal_newlines=True)
    stages = out.stdout.split()
    if out.returncode != 0 or not stages:
        not_ok('check.sh --list-stages lists the stages (exit %d)'
               % out.returncode)
        return
    names = stage_table(readme)
    if names is None:
        not_ok('README has a "What `./scripts/check.sh` runs" table')
        return
    missing = [s for s in stages
               if not any(fnmatch.fnmatchcase(s, n) for n in names)]
    extra = [n for n in names
             if not any(fnmatch.fnmatchcase(s, n) for s in stages)]
    if missing or extra:
        not_ok("README's stage table lists check.sh's stages (missing: %s; "
               "not stages: %s)" % (' '.join(missing) or '-',
                                    ' '.join(extra) or '-'))
    else:
        ok("README's stage table lists exactly check.sh's %d stages"
           % len(stages))


def make_targets():
    mk = read('Makefile')
    m = re.search(r'^\.PHONY:((?:.*\\\n)*.*)$', mk, re.M)
    return set(m.group(1).replace('\\\n', ' ').split()) if m else set()


def check_make(docs):
    targets = make_targets()
    bad = []
    for doc, text in docs:
        # A command, not the English verb: at the start of a line (in a
        # code block), after a backquote, "$ " or "&& ".
        for m in re.finditer(r'(?:^[ \t]*(?:\$ )?|`+|&& )make'
                             r'((?: [A-Z_0-9]+=\S+)*) ([a-z][a-z_-]*)\b',
                             text, re.M):
            t = m.group(2)
            if t in targets or t in ('the', 'it', 'a', 'and', 'or', 'would'):
                continue
            bad.append('%s: make %s' % (doc, t))
    if bad:
        not_ok('every `make TARGET` shown is a Makefile target (not: %s)'
               % ', '.join(sorted(set(bad))))
    else:
        ok('every `make TARGET` shown is a Makefile target')


def check_scripts(docs):
    bad = []
    for doc, text in docs:
        for m in re.finditer(r'(?<![\w/.])((?:\./)?scripts/[\w./-]*\w)', text):
            p = m.group(1)
            if p.startswith('./'):
                p = p[2:]
            if not os.path.exists(os.path.join(REPO, p)):
                bad.append('%s: %s' % (doc, p))
    if bad:
        not_ok('every scripts/ path named exists (not: %s)'
               % ', '.join(sorted(set(bad))))
    else:
        ok('every scripts/ path named exists')


def check_symbols(docs):
    defined = set()
    for path in ['Kconfig', 'Kbuild', 'Makefile', 'samples/Kbuild'] + \
            [os.path.relpath(p, REPO) for p in
             glob.glob(os.path.join(REPO, '*.h'))]:
        text = read(path)
        defined |= set(re.findall(r'^config (ATOMIC_ALLOC\w*)', text, re.M))
        defined |= set(re.findall(r'#define (ATOMIC_ALLOC\w*)', text))
        defined |= set(re.findall(r'\$\((ATOMIC_ALLOC\w*)\)', text))
    bad = []
    for doc, text in docs:
        for sym in set(re.findall(r'\b(?:CONFIG_)?(ATOMIC_ALLOC_[A-Z_]*[A-Z])\b',
                                  text)):
            if sym not in defined:
                bad.append('%s: %s' % (doc, sym))
    if bad:
        not_ok('every ATOMIC_ALLOC_* name used is defined (not: %s)'
               % ', '.join(sorted(bad)))
    else:
        ok('every ATOMIC_ALLOC_* name used is defined')


def check_header_paths(docs):
    bad = []
    for doc, text in docs:
        for m in re.finditer(r'/usr/src/linux-headers-([0-9][\w.+-]*\w)', text):
            if not os.path.isdir('/usr/src/linux-headers-' + m.group(1)):
                bad.append('%s: %s' % (doc, m.group(0)))
    if bad:
        not_ok('every header tree named by release is installed (not: %s; '
               'write <release>)' % ', '.join(sorted(set(bad))))
    else:
        ok('every header tree named by release is installed')


def main():
    docs = documents()
    check_stages(dict(docs)['README.md'])
    check_make(docs)
    check_scripts(docs)
    check_symbols(docs)
    check_header_paths(docs)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
