#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""snippets.py: the C code snippets of README.md and Documentation/*.rst, as
modules that scripts/snippets.sh builds, so that a snippet cannot drift
from the API.

Every C code block needs a marker right before it (blank lines between are
fine); a C block without one is an error, so none goes unbuilt:

    README.md, any *.md:               Documentation/*.rst:

    <!-- snippet NAME                  .. snippet NAME
    CONTEXT BEFORE                        CONTEXT BEFORE
    @@ snippet @@                         @@ snippet @@
    CONTEXT AFTER                         CONTEXT AFTER
    -->
    ```c                               .. code-block:: c
    THE SNIPPET
    ```                                   THE SNIPPET

NAME ([a-z0-9-]+, unique across the documents) names the module,
snippet_NAME.ko (dashes become underscores).  The context is the code a fragment needs around it and
the reader does not: #includes, stubs of the driver's own functions, and
code that uses what the snippet defines (W=1 warns about unused static
functions).  Without the "@@ snippet @@" line all the context goes before
the snippet; a marker without context says the snippet is complete.  A
module license is added when the module has none.  The snippet's lines
keep their document line numbers (#line), so a compiler message points
into the document.

Usage:
    snippets.py list                the snippets, one "NAME DOC:LINE LINES" a
                                    line (first line and number of lines)
    snippets.py extract DIR         write DIR/snippet_NAME/{snippet_NAME.c,
                                    Kbuild}, one module each, and shown.c,
                                    the snippet alone; list them
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEPARATOR = '@@ snippet @@'


def documents():
    docs = ['README.md']
    ddir = os.path.join(REPO, 'Documentation')
    if os.path.isdir(ddir):
        docs += sorted('Documentation/' + f for f in os.listdir(ddir)
                       if f.endswith('.rst'))
    return [d for d in docs if os.path.isfile(os.path.join(REPO, d))]


class SnippetError(Exception):
    pass


def md_snippets(doc, lines):
    """(name, context lines, code lines, first code line number) of a
    markdown document."""
    out = []
    pending = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'^<!-- snippet (\S+)\s*(-->)?\s*$', line)
        if m:
            if pending:
                raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                                   'no C block' % (doc, pending[2], pending[0]))
            ctx = []
            if not m.group(2):
                j = i + 1
                while j < len(lines) and lines[j].strip() != '-->':
                    ctx.append(lines[j])
                    j += 1
                if j == len(lines):
                    raise SnippetError('%s:%d: snippet marker without "-->"'
                                       % (doc, i + 1))
                i = j
            pending = (m.group(1), ctx, i + 1)
            i += 1
            continue
        m = re.match(r'^```\s*(\S*)', line)
        if m:
            lang = m.group(1).lower()
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            if lang in ('c', 'c99', 'c11'):
                if not pending:
                    raise SnippetError('%s:%d: a C block without a "<!-- '
                                       'snippet NAME -->" marker before it: '
                                       'every C snippet is compiled (see '
                                       'scripts/snippets.py)' % (doc, i + 1))
                out.append((pending[0], pending[1], lines[i + 1:j], i + 2))
            elif pending:
                raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                                   'a "%s" block, not C'
                                   % (doc, pending[2], pending[0], lang))
            pending = None
            i = j + 1
            continue
        if line.strip() and pending:
            raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                               'text, not a C block'
                               % (doc, pending[2], pending[0]))
        i += 1
    if pending:
        raise SnippetError('%s:%d: snippet marker "%s" is followed by no C '
                           'block' % (doc, pending[2], pending[0]))
    return out


def rst_block(lines, i):
    """The indented body of the directive or comment at line i: (body
    lines with the indent removed, line number of its first line, index
    after it)."""
    j = i + 1
    body = []
    first = None
    indent = None
    while j < len(lines):
        line = lines[j]
        if line.strip() and not line[0].isspace():
            break
        if line.strip():
            ind = len(line) - len(line.lstrip())
            indent = ind if indent is None else min(indent, ind)
            if first is None:
                first = j + 1
        body.append(line)
        j += 1
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    return [l[indent or 0:] for l in body], first, j


def rst_snippets(doc, lines):
    out = []
    pending = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r'^\.\. snippet (\S+)\s*$', line)
        if m:
            if pending:
                raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                                   'no C block' % (doc, pending[2], pending[0]))
            ctx, _, j = rst_block(lines, i)
            pending = (m.group(1), ctx, i + 1)
            i = j
            continue
        m = re.match(r'^(\s*)\.\. (code-block|code|sourcecode)::\s*(\S*)', line)
        if m:
            lang = m.group(3).lower()
            body, first, j = rst_block(lines, i)
            # Options (":linenos:") come first in a directive's body.
            while body and re.match(r'^:[a-z-]+:', body[0]):
                body.pop(0)
                first += 1
            while body and not body[0].strip():
                body.pop(0)
                first += 1
            if lang in ('c', 'c99', 'c11'):
                if not pending:
                    raise SnippetError('%s:%d: a C code-block without a '
                                       '".. snippet NAME" marker before it: '
                                       'every C snippet is compiled (see '
                                       'scripts/snippets.py)' % (doc, i + 1))
                out.append((pending[0], pending[1], body, first))
            elif pending:
                raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                                   'a "%s" block, not C'
                                   % (doc, pending[2], pending[0], lang))
            pending = None
            i = j
            continue
        if line.strip() and pending:
            raise SnippetError('%s:%d: snippet marker "%s" is followed by '
                               'text, not a C code-block'
                               % (doc, pending[2], pending[0]))
        i += 1
    if pending:
        raise SnippetError('%s:%d: snippet marker "%s" is followed by no C '
                           'block' % (doc, pending[2], pending[0]))
    return out


def all_snippets():
    found = []
    names = {}
    for doc in documents():
        with open(os.path.join(REPO, doc)) as f:
            lines = f.read().split('\n')
        get = rst_snippets if doc.endswith('.rst') else md_snippets
        for name, ctx, code, line in get(doc, lines):
            if not re.match(r'^[a-z0-9][a-z0-9-]*$', name):
                raise SnippetError('%s:%d: snippet name "%s": use a-z, 0-9 '
                                   'and -' % (doc, line, name))
            if name in names:
                raise SnippetError('%s:%d: snippet "%s" already defined at %s'
                                   % (doc, line, name, names[name]))
            names[name] = '%s:%d' % (doc, line)
            found.append((name, doc, line, ctx, code))
    return found


def module_source(mod, name, doc, line, ctx, code):
    if SEPARATOR in [c.strip() for c in ctx]:
        k = [c.strip() for c in ctx].index(SEPARATOR)
        before, after = ctx[:k], ctx[k + 1:]
    else:
        before, after = ctx, []
    src = ['// SPDX-License-Identifier: GPL-2.0',
           '/* Snippet "%s" of %s, made by scripts/snippets.py. */' % (name, doc)]
    src += before
    src.append('#line %d "%s"' % (line, doc))
    src += code
    # Back to this file's own line numbers.
    src.append('#line %d "%s.c"' % (len(src) + 2, mod))
    src += after
    text = '\n'.join(src)
    if not re.search(r'\bMODULE_LICENSE\s*\(', text):
        if not re.search(r'#include\s*<linux/module\.h>', text):
            src.append('#include <linux/module.h>')
        src.append('MODULE_LICENSE("GPL");')
        src.append('MODULE_DESCRIPTION("snippet %s of %s");' % (name, doc))
    return '\n'.join(src) + '\n'


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ('list', 'extract'):
        sys.stderr.write(__doc__)
        return 2
    try:
        snips = all_snippets()
    except SnippetError as e:
        print('snippets.py: %s' % e, file=sys.stderr)
        return 1
    if sys.argv[1] == 'list':
        for name, doc, line, _, code in snips:
            print('%s %s:%d %d' % (name, doc, line, len(code)))
        return 0
    if len(sys.argv) != 3:
        sys.stderr.write('usage: snippets.py extract DIR\n')
        return 2
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    # One directory, one module each: a broken snippet stops only its own
    # build (and modpost then still checks the others' symbols).
    for name, doc, line, ctx, code in snips:
        mod = 'snippet_' + name.replace('-', '_')
        d = os.path.join(out, mod)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, mod + '.c'), 'w') as f:
            f.write(module_source(mod, name, doc, line, ctx, code))
        # The snippet alone, as the reader sees it, for checkpatch.
        with open(os.path.join(d, 'shown.c'), 'w') as f:
            f.write('\n'.join(code) + '\n')
        with open(os.path.join(d, 'Kbuild'), 'w') as f:
            f.write('# SPDX-License-Identifier: GPL-2.0\n'
                    '# Made by scripts/snippets.py from %s.\n'
                    'ccflags-y += -I$(src)/../include\n'
                    'obj-m += %s.o\n' % (doc, mod))
    for name, doc, line, _, code in snips:
        print('%s %s:%d %d' % (name, doc, line, len(code)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
