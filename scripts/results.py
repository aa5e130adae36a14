#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""results.py: the results files, their stamps, and the regions of the
documentation that quote them.

Every figure in README.md and Documentation/*.rst comes from a results file
that a run wrote (results/check.md from scripts/check.sh, bench/results/*.md
from scripts/bench.sh, bench/results/soak-*.md from scripts/soak.sh).  A
document quotes a results file between two markers; this script writes what
is between them, and `check` fails when it differs from what the results
file gives.

Markers (SPEC below):

    README.md, any *.md:                Documentation/*.rst:
    <!-- results: SPEC -->              .. results: SPEC
    ... generated ...                   ... generated ...
    <!-- end results -->                .. end results

SPEC is FILE [SECTION] [OPTION...] (shell quoting):

    FILE            a results file, relative to the repo root
    SECTION         the text of one of its headings: quote that section
                    (without the heading) down to the next heading of the
                    same or a higher level; without it, the whole file but
                    its title
    only=B1,B2      only these blocks of the section, in this order:
                    table1, list2, para1, image1, ... (kind and number,
                    counted from 1 within the section)
    rows=COL:A|B    tables: only the rows whose COL cell is A or B
    cols=C1|C2      tables: only these columns, in this order
    stamp=no        no provenance line ("From FILE: commit ...") first

A results file starts with its stamp, one HTML comment line:

    <!-- aa-results commit=SHA1 dirty=no kernel=REL[,REL] qemu=VER
         date=ISO-8601 by="COMMAND" -->     (on one line)

`stamp --begin` and `stamp --end` make it (scripts/record.sh, check.sh and
soak.sh use them): dirty=yes when code had uncommitted changes at the start
or changed during the run.  Code is every file of the checkout except the
documentation and the results themselves (CODE_EXCLUDES).  A benchmark
report without a stamp is read by its own lines ("Measured: the module
sources as committed in SHA1").

A results file is stale when code it describes (SCOPES: the pool's
sources, plus the benchmark's, the soak's or the demo's own; all code for
the check) changed after its stamped commit.
`status` says which are; check.sh prints it in its summary, and
AA_RESULTS_STRICT=1 (or --strict) turns a stale or unstamped file into a
failure.

Usage:
    results.py update               rewrite every region from its results file
    results.py check                exit 1 if a region differs or is broken
    results.py status [--strict]    fresh or stale, per quoted results file
    results.py stamp --begin        the tree now, as JSON (for --end)
    results.py stamp --end FILE [--kernel K] [--qemu V] [--by CMD]
                                    the stamp line for a run begun at FILE
    results.py add-stamp FILE LINE  put stamp LINE on top of FILE if it has none
    results.py write-check ...      the results file of a check.sh run
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What is not code: a change here does not make a result stale.
CODE_EXCLUDES = ['*.md', 'Documentation', 'results', 'bench/results',
                 '.gitignore']

# What a results file describes, by its path: a change to other code does
# not make it stale.  The pool's own sources are in every scope; the check's
# results (results/check.md, and anything not listed) describe all code.
POOL = ['atomic_alloc.c', 'atomic_alloc.h', 'atomic_alloc_priv.h',
        'atomic_alloc_trace.h', 'compat.h', 'Kbuild', 'Kconfig', 'Makefile']
AUDIO = ['audio_*.c', 'audio_*.h', 'dma_ring.c', 'dma_ring.h']
DEMO_BENCH = ['bench/Kbuild', 'bench/atomic_alloc_labyrinth.c',
              'bench/atomic_alloc_labyrinth.h', 'bench/atomic_alloc_naive.c',
              'bench/bench_compat.h', 'bench/hist.h']
SCOPES = [
    ('results/layout', POOL + ['scripts/layout.sh']),
    ('bench/results/soak-', POOL + AUDIO + ['scripts/soak.sh',
                                            'scripts/guest/soak.sh',
                                            'scripts/guest/lib.sh']),
    # The demo loads the labyrinth and the naive device of bench/, built
    # by build-bench.sh, not the benchmark module itself.
    ('bench/results/demo-', POOL + AUDIO + DEMO_BENCH + [
        'scripts/build-bench.sh', 'scripts/demo.sh', 'scripts/demo-report.py',
        'scripts/aa_report.py', 'scripts/guest/demo.sh',
        'scripts/guest/alsa.sh', 'scripts/guest/lib.sh']),
    ('bench/results/memory-', POOL + ['tests/atomic_alloc_buf_kunit.c',
                                      'tests/configs', 'tests/.kunitconfig',
                                      'scripts/memory-report.py']),
    ('bench/results/', POOL + ['bench', 'scripts/bench.sh',
                               'scripts/build-bench.sh',
                               'scripts/bench-report.py',
                               'scripts/aa_insn.py', 'scripts/aa_report.py',
                               'scripts/guest/bench.sh',
                               'scripts/guest/lib.sh']),
]


def scope_pathspec(path):
    """The code a results file describes, as a git pathspec."""
    for prefix, scope in SCOPES:
        if path and path.startswith(prefix):
            return (['--'] + [':(glob)' + p if '*' in p else p
                              for p in scope] +
                    [':(exclude)%s' % e for e in CODE_EXCLUDES])
    return code_pathspec()


# The documents whose regions this script writes.
def documents():
    docs = ['README.md']
    ddir = os.path.join(REPO, 'Documentation')
    if os.path.isdir(ddir):
        docs += sorted('Documentation/' + f for f in os.listdir(ddir)
                       if f.endswith('.rst'))
    return [d for d in docs if os.path.isfile(os.path.join(REPO, d))]


def die(msg):
    sys.stderr.write('results.py: error: %s\n' % msg)
    sys.exit(2)


# ---- git and stamps ------------------------------------------------------


def git(*args, check=True):
    try:
        out = subprocess.run(['git', '-C', REPO] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
    except FileNotFoundError:
        return None
    if out.returncode != 0:
        if check:
            return None
        return ''
    return out.stdout


def code_pathspec():
    return ['--', '.'] + [':(exclude)%s' % e for e in CODE_EXCLUDES]


def tree_state():
    """HEAD, and the fingerprint of the uncommitted code changes."""
    head = git('rev-parse', 'HEAD')
    if head is None:
        return None, None, []
    head = head.strip()
    diff = git('diff', 'HEAD', *code_pathspec()) or ''
    untracked = (git('ls-files', '--others', '--exclude-standard',
                     *code_pathspec()) or '').split()
    changed = sorted(set((git('diff', '--name-only', 'HEAD',
                              *code_pathspec()) or '').split()) |
                     set(untracked))
    h = hashlib.sha1(diff.encode())
    for f in untracked:
        h.update(f.encode())
        try:
            with open(os.path.join(REPO, f), 'rb') as fh:
                h.update(fh.read())
        except OSError:
            pass
    return head, h.hexdigest(), changed


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def cmd_stamp(args):
    if args.begin:
        head, fp, changed = tree_state()
        json.dump({'commit': head, 'fingerprint': fp, 'changed': changed,
                   'date': now_iso()}, sys.stdout)
        sys.stdout.write('\n')
        return 0
    if not args.end:
        die('stamp needs --begin or --end FILE')
    with open(args.end) as f:
        begin = json.load(f)
    head, fp, changed = tree_state()
    dirty = 'no'
    if begin.get('commit') is None:
        commit = 'unknown'
        dirty = 'unknown'
    else:
        commit = begin['commit']
        if begin['changed'] or head != commit or fp != begin['fingerprint']:
            dirty = 'yes'
    fields = [('commit', commit), ('dirty', dirty)]
    if args.kernel:
        fields.append(('kernel', args.kernel))
    if args.qemu:
        fields.append(('qemu', args.qemu))
    fields.append(('date', begin.get('date') or now_iso()))
    if args.by:
        fields.append(('by', args.by))
    print(format_stamp(fields))
    if dirty == 'yes':
        files = sorted(set(begin['changed']) | set(changed))
        sys.stderr.write('results.py: note: the code had uncommitted changes '
                         'or changed during the run (%s); the stamp says '
                         'dirty=yes\n' % (', '.join(files[:8]) or 'HEAD moved'))
    return 0


def format_stamp(fields):
    parts = []
    for k, v in fields:
        v = str(v)
        if re.search(r'[\s"\'<>]', v) or v == '':
            v = shlex.quote(v)
        parts.append('%s=%s' % (k, v))
    return '<!-- aa-results %s -->' % ' '.join(parts)


STAMP_RE = re.compile(r'^<!-- aa-results (.*) -->\s*$')


def read_stamp(path, text):
    """The stamp of a results file: a dict, with 'source' saying where it
    came from ('stamp', 'bench-report', 'none')."""
    for line in text.splitlines()[:5]:
        m = STAMP_RE.match(line)
        if m:
            st = dict(t.split('=', 1) for t in shlex.split(m.group(1))
                      if '=' in t)
            st['source'] = 'stamp'
            return st
    st = {'source': 'none'}
    # scripts/bench-report.py's own lines, before it wrote stamps.
    m = re.search(r'^# atomic_alloc benchmark: (\S+), QEMU (\S+)', text, re.M)
    if m:
        st.update(kernel=m.group(1), qemu=m.group(2))
    m = re.search(r'^- Measured: (?:the module sources as committed in '
                  r'([0-9a-f]{7,40})|commit ([0-9a-f]{7,40}) with uncommitted)',
                  text, re.M)
    if m:
        st['commit'] = m.group(1) or m.group(2)
        st['dirty'] = 'no' if m.group(1) else 'yes'
        st['source'] = 'bench-report'
    # scripts/soak.sh's lines, before it wrote stamps.
    m = re.search(r'^Kernel (\S+) \(Debian stock\), QEMU ([0-9.]+)', text, re.M)
    if m:
        st.update(kernel=m.group(1), qemu=m.group(2))
    m = re.search(r'(\d{4}-\d\d-\d\d)\.', text)
    if m and 'date' not in st:
        st['date'] = m.group(1)
    return st


def short(commit):
    return commit[:7] if commit and re.match(r'^[0-9a-f]{7,40}$', commit) \
        else (commit or 'unknown')


def freshness(st, path=None):
    """(fresh?, reason) for a stamp, against the code it describes."""
    commit = st.get('commit')
    if not commit or commit == 'unknown':
        return False, 'not stamped with a commit'
    if git('rev-parse', '--git-dir') is None:
        return False, 'not a git checkout: cannot tell'
    full = git('rev-parse', '--verify', '--quiet', commit + '^{commit}')
    if not full:
        return False, 'its commit %s is not in this checkout' % short(commit)
    full = full.strip()
    if st.get('dirty') == 'yes':
        return False, ('recorded from a tree with uncommitted changes '
                       'on top of %s' % short(full))
    spec = scope_pathspec(path)
    changed = sorted(set((git('diff', '--name-only', full,
                              *spec) or '').split()) |
                     set((git('ls-files', '--others', '--exclude-standard',
                              *spec) or '').split()))
    if changed:
        behind = (git('rev-list', '--count', full + '..HEAD') or '?').strip()
        return False, ('%d code file(s) changed since %s, %s commit(s) ago: '
                       '%s' % (len(changed), short(full), behind,
                               ', '.join(changed[:6]) +
                               (', ...' if len(changed) > 6 else '')))
    return True, 'code unchanged since %s' % short(full)


# ---- markdown, the results files' format ----------------------------------


def parse_blocks(lines):
    """Split markdown lines into blocks: (kind, lines).  Kinds: heading,
    table, list, image, code, para."""
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or STAMP_RE.match(line):
            i += 1
            continue
        if line.startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            blocks.append(('code', lines[i:j + 1]))
            i = j + 1
            continue
        if re.match(r'^#{1,6} ', line):
            blocks.append(('heading', [line]))
            i += 1
            continue
        if line.startswith('|'):
            j = i
            while j < len(lines) and lines[j].startswith('|'):
                j += 1
            blocks.append(('table', lines[i:j]))
            i = j
            continue
        if line.startswith('    ') or line.startswith('\t'):
            j = i
            while j < len(lines) and (lines[j].startswith('    ') or
                                      lines[j].startswith('\t') or
                                      (not lines[j].strip() and j + 1 < len(lines)
                                       and lines[j + 1].startswith('    '))):
                j += 1
            blocks.append(('code', lines[i:j]))
            i = j
            continue
        if re.match(r'^!\[[^\]]*\]\([^)]*\)\s*$', line):
            blocks.append(('image', [line]))
            i += 1
            continue
        if re.match(r'^\s*[-*] ', line):
            j = i + 1
            while j < len(lines) and lines[j].strip() and \
                    (re.match(r'^\s*[-*] ', lines[j]) or
                     lines[j].startswith(' ')):
                j += 1
            blocks.append(('list', lines[i:j]))
            i = j
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() and \
                not re.match(r'^(#{1,6} |\||```|\s*[-*] |!\[)', lines[j]):
            j += 1
        blocks.append(('para', lines[i:j]))
        i = j
    return blocks


def section(path, text, name):
    lines = text.splitlines()
    if name is None:
        # The whole file but its title and stamp.
        body = [l for l in lines if not STAMP_RE.match(l)]
        if body and body[0].startswith('# '):
            body = body[1:]
        return body
    for i, line in enumerate(lines):
        m = re.match(r'^(#{1,6}) (.*?)\s*$', line)
        if m and m.group(2) == name:
            level = len(m.group(1))
            j = i + 1
            while j < len(lines):
                m2 = re.match(r'^(#{1,6}) ', lines[j])
                if m2 and len(m2.group(1)) <= level:
                    break
                j += 1
            return lines[i + 1:j]
    heads = [re.sub(r'^#+ ', '', l) for l in lines if re.match(r'^#{1,6} ', l)]
    raise RegionError('%s has no heading "%s" (it has: %s)'
                      % (path, name, '; '.join(heads)))


class RegionError(Exception):
    pass


def table_cells(line):
    line = line.strip()
    if line.startswith('|'):
        line = line[1:]
    if line.endswith('|'):
        line = line[:-1]
    # A cell may hold "\|".
    cells = re.split(r'(?<!\\)\|', line)
    return [c.strip() for c in cells]


def plain(cell):
    return re.sub(r'[`*]', '', cell).strip()


def filter_table(lines, opts, where):
    rows = [table_cells(l) for l in lines]
    if len(rows) < 2 or not all(re.match(r'^:?-+:?$', c) for c in rows[1]):
        raise RegionError('%s: a table without a header line' % where)
    header, body = rows[0], rows[2:]
    names = [plain(h) for h in header]
    if 'rows' in opts:
        col, _, vals = opts['rows'].partition(':')
        if col not in names:
            raise RegionError('%s: rows=%s: no column "%s" (columns: %s)'
                              % (where, opts['rows'], col, ', '.join(names)))
        want = vals.split('|')
        k = names.index(col)
        body = [r for r in body if k < len(r) and plain(r[k]) in want]
        missing = set(want) - set(plain(r[k]) for r in body)
        if missing:
            raise RegionError('%s: rows=%s: no row with %s'
                              % (where, opts['rows'], ', '.join(sorted(missing))))
    if 'cols' in opts:
        idx = []
        for c in opts['cols'].split('|'):
            if c not in names:
                raise RegionError('%s: cols=: no column "%s" (columns: %s)'
                                  % (where, c, ', '.join(names)))
            idx.append(names.index(c))
        header = [header[k] for k in idx]
        body = [[r[k] if k < len(r) else '' for k in idx] for r in body]
    return header, body


def select(path, text, spec):
    """The blocks a SPEC quotes, filtered: list of (kind, payload)."""
    lines = section(path, text, spec['section'])
    blocks = parse_blocks(lines)
    where = '%s%s' % (path, ' "%s"' % spec['section'] if spec['section'] else '')
    if 'only' in spec['opts']:
        count = {}
        numbered = []
        for kind, bl in blocks:
            count[kind] = count.get(kind, 0) + 1
            numbered.append(('%s%d' % (kind, count[kind]), kind, bl))
        chosen = []
        for want in spec['opts']['only'].split(','):
            hit = [b for b in numbered if b[0] == want]
            if not hit:
                raise RegionError('%s: only=%s: no block %s (blocks: %s)'
                                  % (where, spec['opts']['only'], want,
                                     ' '.join(b[0] for b in numbered)))
            chosen.append(hit[0][1:])
        blocks = chosen
    out = []
    for kind, bl in blocks:
        if kind == 'heading':
            raise RegionError('%s: a quoted section may not contain headings '
                              '(quote a subsection, or use only=)' % where)
        if kind == 'table':
            out.append(('table', filter_table(bl, spec['opts'], where)))
        else:
            out.append((kind, bl))
    if not out:
        raise RegionError('%s: nothing to quote' % where)
    return out


# ---- rendering -------------------------------------------------------------


def provenance(path, st):
    """The facts of a stamp, as a list of (kind, text) pieces."""
    bits = []
    if st['source'] == 'none' or not st.get('commit'):
        bits.append('not stamped with a commit (recorded before stamps; '
                    're-record it)')
    else:
        c = short(st['commit'])
        if st.get('dirty') == 'yes':
            bits.append('commit %s with uncommitted changes' % c)
        else:
            bits.append('commit %s' % c)
    if st.get('date'):
        bits.append(st['date'][:10])
    if st.get('kernel'):
        ks = st['kernel'].split(',')
        bits.append(('kernel ' if len(ks) == 1 else 'kernels ') + ', '.join(ks))
    if st.get('qemu'):
        bits.append('QEMU ' + st['qemu'])
    if st.get('by'):
        bits.append('by ' + st['by'])
    return bits


def rel_link(target_doc, results_path, link):
    if re.match(r'^[a-z]+:', link) or link.startswith('/'):
        return link
    absl = os.path.normpath(os.path.join(os.path.dirname(results_path), link))
    return os.path.relpath(absl, os.path.dirname(target_doc) or '.')


def render_md(doc, path, st, blocks, spec):
    out = []
    if spec['opts'].get('stamp') != 'no':
        link = rel_link(doc, path, os.path.basename(path))
        out.append('*From [`%s`](%s): %s.*' % (path, link,
                                                '; '.join(provenance(path, st))))
    for kind, payload in blocks:
        if kind == 'table':
            header, body = payload
            t = ['| ' + ' | '.join(header) + ' |',
                 '|' + '---|' * len(header)]
            t += ['| ' + ' | '.join(r) + ' |' for r in body]
            out.append('\n'.join(t))
            continue
        text = '\n'.join(payload)
        # Links and images are relative to the results file.
        text = re.sub(r'(!?\[[^\]]*\])\(([^)]+)\)',
                      lambda m: '%s(%s)' % (m.group(1),
                                            rel_link(doc, path, m.group(2))),
                      text)
        out.append(text)
    return '\n\n'.join(out)


def rst_inline(text):
    """Markdown inline markup to reStructuredText."""
    pieces = re.split(r'(`[^`]+`)', text)
    res = []
    for p in pieces:
        if p.startswith('`') and p.endswith('`') and len(p) > 1:
            res.append('``%s``' % p[1:-1])
            continue
        p = re.sub(r'!\[([^\]]*)\]\(([^)]+)\)', r'\1', p)
        p = re.sub(r'\[([^\]]+)\]\(([^)]+)\)', r'\1', p)
        p = p.replace('\\|', '|').replace('|', '\\|')
        # A word ending in "_" would be a reference.
        p = re.sub(r'(\w)_(?=\W|$)', r'\1\\_', p)
        res.append(p)
    return ''.join(res)


def rst_cell(cell):
    c = rst_inline(cell)
    if c in ('', '-'):
        return '\\-'
    return c


def render_rst(doc, path, st, blocks, spec):
    out = []
    if spec['opts'].get('stamp') != 'no':
        out.append('*From* ``%s``: %s.' % (path, rst_inline(
            '; '.join(provenance(path, st)))))
    for kind, payload in blocks:
        if kind == 'table':
            header, body = payload
            t = ['.. list-table::', '   :header-rows: 1', '']
            for row in [header] + body:
                t.append('   * - ' + rst_cell(row[0]))
                for c in row[1:]:
                    t.append('     - ' + rst_cell(c))
            out.append('\n'.join(t))
        elif kind == 'list':
            items = []
            for line in payload:
                m = re.match(r'^\s*[-*] (.*)$', line)
                if m:
                    items.append([m.group(1)])
                elif items:
                    items[-1].append(line.strip())
            out.append('\n'.join('- ' + rst_inline(' '.join(it))
                                 for it in items))
        elif kind == 'image':
            m = re.match(r'^!\[([^\]]*)\]\(([^)]+)\)', payload[0])
            out.append('.. image:: %s\n   :alt: %s'
                       % (rel_link(doc, path, m.group(2)), m.group(1)))
        elif kind == 'code':
            if payload[0].startswith('```'):
                body = ['    ' + l for l in payload[1:-1]]
            else:
                body = payload
            out.append('::\n\n' + '\n'.join(body))
        else:
            out.append(rst_inline(' '.join(l.strip() for l in payload)))
    return '\n\n'.join(out)


# ---- regions -----------------------------------------------------------------


MARKERS = {
    'md': (re.compile(r'^<!-- results: (.*?) -->\s*$'),
           re.compile(r'^<!-- end results -->\s*$')),
    'rst': (re.compile(r'^\.\. results: (.*?)\s*$'),
            re.compile(r'^\.\. end results\s*$')),
}


def parse_spec(s, where):
    try:
        words = shlex.split(s)
    except ValueError as e:
        raise RegionError('%s: bad marker "%s": %s' % (where, s, e))
    if not words:
        raise RegionError('%s: a results marker names no file' % where)
    spec = {'file': words[0], 'section': None, 'opts': {}}
    for w in words[1:]:
        k, eq, v = w.partition('=')
        if eq and k in ('only', 'rows', 'cols', 'stamp'):
            spec['opts'][k] = v
        elif eq:
            raise RegionError('%s: unknown option "%s"' % (where, k))
        elif spec['section'] is None:
            spec['section'] = w
        else:
            raise RegionError('%s: two sections in "%s"' % (where, s))
    return spec


def regions(doc):
    """Yield (start, end, spec_text) line indexes of each region of doc."""
    kind = 'rst' if doc.endswith('.rst') else 'md'
    begin, end = MARKERS[kind]
    with open(os.path.join(REPO, doc)) as f:
        lines = f.read().split('\n')
    i = 0
    found = []
    fence = False
    while i < len(lines):
        # A marker shown in a fenced code block is an example, not a region.
        if kind == 'md' and lines[i].startswith('```'):
            fence = not fence
        if fence:
            i += 1
            continue
        m = begin.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not end.match(lines[j]):
                if begin.match(lines[j]):
                    raise RegionError('%s:%d: a results region opened before '
                                      'the one at line %d was closed'
                                      % (doc, j + 1, i + 1))
                j += 1
            if j == len(lines):
                raise RegionError('%s:%d: results region without its end '
                                  'marker' % (doc, i + 1))
            found.append((i, j, m.group(1)))
            i = j
        elif end.match(lines[i]):
            raise RegionError('%s:%d: end of a results region that was not '
                              'opened' % (doc, i + 1))
        i += 1
    return kind, lines, found


def generate(doc, kind, spec_text, where):
    spec = parse_spec(spec_text, where)
    path = spec['file']
    full = os.path.join(REPO, path)
    if not os.path.isfile(full):
        raise RegionError('%s: results file %s does not exist' % (where, path))
    with open(full) as f:
        text = f.read()
    st = read_stamp(path, text)
    blocks = select(path, text, spec)
    if kind == 'md':
        return render_md(doc, path, st, blocks, spec), path, st
    return render_rst(doc, path, st, blocks, spec), path, st


def rewrite(doc):
    """(new text, old text, quoted files) of a document."""
    kind, lines, found = regions(doc)
    out = []
    prev = 0
    quoted = []
    for i, j, spec_text in found:
        out += lines[prev:i + 1]
        body, path, st = generate(doc, kind, spec_text,
                                  '%s:%d' % (doc, i + 1))
        quoted.append((path, st))
        out += [''] + body.split('\n') + ['']
        prev = j
    out += lines[prev:]
    return '\n'.join(out), '\n'.join(lines), quoted


def cmd_update(args):
    bad = 0
    for doc in documents():
        try:
            new, old, _ = rewrite(doc)
        except RegionError as e:
            print('results.py: %s' % e, file=sys.stderr)
            bad += 1
            continue
        if new != old:
            with open(os.path.join(REPO, doc), 'w') as f:
                f.write(new)
            print('results.py: updated %s' % doc)
    return 1 if bad else 0


def cmd_check(args):
    bad = 0
    n = 0
    for doc in documents():
        try:
            new, old, quoted = rewrite(doc)
        except RegionError as e:
            print('not ok - docs: results regions: %s' % e)
            bad += 1
            continue
        n += len(quoted)
        if new != old:
            diff = [l for l in __import__('difflib').unified_diff(
                old.split('\n'), new.split('\n'), doc, doc + ' (from results)',
                lineterm='', n=0)]
            print('\n'.join(diff[:40]), file=sys.stderr)
            print('not ok - docs: results regions of %s match their results files '
                  '(run scripts/results.py update; diff above)' % doc)
            bad += 1
        else:
            print('ok - docs: results regions of %s match their results files '
                  '(%d regions)' % (doc, len(quoted)))
    return 1 if bad else 0


def quoted_files():
    files = {}
    for doc in documents():
        try:
            _, _, found = regions(doc)
        except RegionError:
            continue
        for i, j, spec_text in found:
            try:
                spec = parse_spec(spec_text, doc)
            except RegionError:
                continue
            files.setdefault(spec['file'], []).append(doc)
    rdir = os.path.join(REPO, 'results')
    if os.path.isdir(rdir):
        for f in sorted(os.listdir(rdir)):
            if f.endswith('.md'):
                files.setdefault('results/' + f, [])
    return files


def cmd_status(args):
    strict = args.strict or os.environ.get('AA_RESULTS_STRICT') == '1'
    stale = 0
    for path, docs in sorted(quoted_files().items()):
        full = os.path.join(REPO, path)
        if not os.path.isfile(full):
            print('results: %s: missing (quoted by %s)'
                  % (path, ', '.join(sorted(set(docs)))))
            stale += 1
            continue
        with open(full) as f:
            st = read_stamp(path, f.read())
        ok, why = freshness(st, path)
        if ok:
            print('results: %s: fresh (%s)' % (path, why))
        else:
            stale += 1
            print('results: %s: STALE: %s; re-record: %s'
                  % (path, why, rerecord_hint(path)))
    if stale and strict:
        print('results: %d results file(s) stale or unstamped, and '
              'AA_RESULTS_STRICT=1' % stale)
        return 1
    return 0


def rerecord_hint(path):
    if path.startswith('results/check'):
        return 'scripts/record.sh check'
    if '/soak-' in path:
        return 'scripts/record.sh soak'
    if '/memory-' in path:
        return 'scripts/record.sh memory'
    if '/demo-' in path:
        return 'scripts/record.sh demo'
    if path.startswith('results/layout'):
        return 'scripts/layout.sh'
    if path.startswith('bench/results/'):
        return 'scripts/record.sh bench'
    return 'the script that wrote it, then scripts/results.py update'


def cmd_add_stamp(args):
    with open(args.file) as f:
        text = f.read()
    if read_stamp(args.file, text)['source'] == 'stamp':
        print('results.py: %s already has a stamp; left alone' % args.file)
        return 0
    if not STAMP_RE.match(args.line):
        die('not a stamp line: %s' % args.line)
    with open(args.file, 'w') as f:
        f.write(args.line + '\n' + text)
    print('results.py: stamped %s' % args.file)
    return 0


# ---- the check summary -------------------------------------------------------


def md_cell(s):
    return s.replace('|', '\\|').strip() or '-'


def fmt_ns(ns):
    """A latency in ns as the documents print it: ns, us or ms."""
    if ns < 1000:
        return '%d ns' % ns
    if ns < 1000000:
        return '%.3g us' % (ns / 1000.0)
    return '%.3g ms' % (ns / 1000000.0)


def cmd_write_check(args):
    """results/check.md of one check.sh run, from the TSV files it wrote."""
    stamp = args.stamp.strip()
    if not STAMP_RE.match(stamp):
        die('not a stamp line: %s' % stamp)
    st = read_stamp('', stamp)
    rows = []
    with open(args.rows) as f:
        for line in f:
            p = line.rstrip('\n').split('\t')
            if len(p) >= 5:
                rows.append(p[:5])
    rel = []
    if args.rel and os.path.isfile(args.rel):
        with open(args.rel) as f:
            for line in f:
                p = line.rstrip('\n').split('|')
                if len(p) >= 5:
                    rel.append([p[0]] + p[1:5])
    passed, failed, skipped = args.total
    ran = [r[0] for r in rows]
    stages = 'all' if not args.partial else 'only ' + ' '.join(ran)
    out = [stamp, '# `./scripts/check.sh`', '']
    out.append('One run of %s: commit `%s`%s, %s, %d s.  Kernels: '
               '%s.  QEMU %s (`%s`) on a host with %s CPUs.'
               % ('every stage' if not args.partial else 'the stages named in AA_STAGES',
                  short(st.get('commit')),
                  ' (with uncommitted changes)' if st.get('dirty') == 'yes'
                  else '', st.get('date', '?'), args.seconds,
                  ', '.join(st.get('kernel', '?').split(',')),
                  st.get('qemu', '?'), args.accel, os.cpu_count()))
    out += ['', '## Verdict', '']
    verdict = '**%d passed, %d failed**' % (passed, failed)
    if skipped:
        verdict += ' (%d KUnit cases skipped, not counted)' % skipped
    out.append('%s in %d s; stages run: %s.' % (verdict, args.seconds, stages))
    out += ['', '## Stages', '',
            '| stage | passed | failed | skipped | time |', '|---|---|---|---|---|']
    for name, p, fl, sk, t in rows:
        out.append('| `%s` | %s | %s | %s | %s s |'
                   % (name, p, fl, sk or '-', t))
    out += ['', '## Reliability', '']
    if rel:
        out += ['| stage | scenario | injected | counted | pages lost |',
                '|---|---|---|---|---|']
        for r in rel:
            out.append('| ' + ' | '.join(md_cell(c) for c in
                                        ['`%s`' % r[0]] + r[1:]) + ' |')
    else:
        out.append('No stage of this run injected faults.')
    notify = []
    if args.notify and os.path.isfile(args.notify):
        with open(args.notify) as f:
            for line in f:
                p = line.rstrip('\n').split('|')
                if len(p) >= 3 and p[1].isdigit() and p[2].isdigit():
                    notify.append(p[:3])
    out += ['', '## ALSA notification latency', '']
    if notify:
        out += ['From the period interrupt to snd_pcm_period_elapsed() in '
                'the card\'s notification thread: playback subdevice 0, '
                '10 s at 192 kHz, S24_3LE stereo, 1024-frame periods, '
                'Debian\'s own kernel with 4 vCPUs (upper bounds of the '
                '`notify_ns` histogram\'s buckets).', '',
                '| kernel | p50 | p99 |', '|---|---|---|']
        for k, p50, p99 in notify:
            out.append('| %s | %s | %s |' % (k, fmt_ns(int(p50)),
                                             fmt_ns(int(p99))))
    else:
        out.append('No stage of this run measured it.')
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return 0


def main():
    ap = argparse.ArgumentParser(
        description='results files and the documentation regions that '
                    'quote them (see the top of this file)')
    sub = ap.add_subparsers(dest='cmd')
    sub.add_parser('update')
    sub.add_parser('check')
    s = sub.add_parser('status')
    s.add_argument('--strict', action='store_true')
    s = sub.add_parser('stamp')
    s.add_argument('--begin', action='store_true')
    s.add_argument('--end')
    s.add_argument('--kernel')
    s.add_argument('--qemu')
    s.add_argument('--by')
    s = sub.add_parser('add-stamp')
    s.add_argument('file')
    s.add_argument('line')
    s = sub.add_parser('write-check')
    s.add_argument('--stamp', required=True)
    s.add_argument('--rows', required=True)
    s.add_argument('--rel')
    s.add_argument('--notify')
    s.add_argument('--total', nargs=3, type=int, required=True)
    s.add_argument('--seconds', type=int, required=True)
    s.add_argument('--accel', default='?')
    s.add_argument('--partial', action='store_true')
    s.add_argument('--out', required=True)
    args = ap.parse_args()
    cmds = {'update': cmd_update, 'check': cmd_check, 'status': cmd_status,
            'stamp': cmd_stamp, 'add-stamp': cmd_add_stamp,
            'write-check': cmd_write_check}
    if args.cmd not in cmds:
        ap.print_help()
        return 2
    return cmds[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
