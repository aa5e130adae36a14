# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for the atomic_alloc documentation, built out of the
# kernel tree the way Documentation/ is built in it: the kernel's own
# kernel-doc extension (Documentation/sphinx/kerneldoc.py) runs the kernel's
# scripts/kernel-doc on our sources, with the kernel's Alabaster settings.
#
# Build it with scripts/docs.sh ("make docs"), which finds or unpacks the
# kernel tree and passes it in AA_KSRC.  By hand:
#
#   AA_KSRC=<linux-6.12 tree> KDOC_WERROR=1 \
#       sphinx-build -W -b html Documentation Documentation/output/html

import os
import re
import sys

import sphinx

here = os.path.dirname(os.path.abspath(__file__))
ksrc = os.environ.get('AA_KSRC',
                      os.path.expanduser('~/.cache/atomic_alloc/linux-source-6.12'))
ksphinx = os.path.join(ksrc, 'Documentation', 'sphinx')
if not os.path.isfile(os.path.join(ksphinx, 'kerneldoc.py')):
    sys.exit('atomic_alloc docs: no kernel tree at %s (set AA_KSRC, or run '
             'scripts/docs.sh, which unpacks one)' % ksrc)
sys.path.insert(0, ksphinx)


def module_version():
    with open(os.path.join(here, '..', 'atomic_alloc.c')) as f:
        m = re.search(r'^MODULE_VERSION\("([^"]+)"\);', f.read(), re.M)
    return m.group(1) if m else 'unknown'


project = 'atomic_alloc'
author = 'atomic_alloc developers'
copyright = 'the atomic_alloc developers; GPL-2.0'
version = release = module_version()

extensions = ['kerneldoc']
needs_sphinx = '3.1'

# kernel-doc, as the kernel's conf.py sets it up.  Paths in ".. kernel-doc::"
# are relative to this directory, like the ".. literalinclude::" paths.
kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = here
kerneldoc_verbosity = 0

root_doc = master_doc = 'atomic_alloc'
source_suffix = '.rst'
exclude_patterns = ['output']

primary_domain = 'c'
highlight_language = 'none'
pygments_style = 'sphinx'
smartquotes_action = 'q'

# Function-like macros and attributes the C domain cannot parse, as in the
# kernel's conf.py (none of ours needs more than these).
c_id_attributes = ['__init', '__exit', '__must_check', '__percpu', '__rcu',
                   '__user', '__iomem', '__always_inline', 'noinline']

# The kernel's look: Alabaster with its custom.css and local TOC.
html_theme = 'alabaster'
html_theme_options = {
    'description': 'Per-CPU page pools for hard-IRQ and atomic context, '
                   'version ' + release,
    'page_width': '65em',
    'sidebar_width': '15em',
    'fixed_sidebar': 'true',
    'font_size': 'inherit',
    'font_family': 'serif',
}
html_static_path = [os.path.join(ksrc, 'Documentation', 'sphinx-static')]
html_css_files = []
# One page: the local table of contents, not the kernel's toctree.
html_sidebars = {'**': ['about.html', 'localtoc.html', 'searchbox.html']}
html_title = 'atomic_alloc %s documentation' % release
html_show_sourcelink = False
html_copy_source = False
