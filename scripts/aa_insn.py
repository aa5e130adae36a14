# SPDX-License-Identifier: GPL-2.0
"""aa_insn.py: the instructions one alloc+free pair executes, per function.

Used by scripts/bench-report.py (the "Instruction counts" section of the
benchmark report) and runnable on its own on a benchmark guest log:

    python3 scripts/aa_insn.py LOG [KO_DIR]     # every traced pair, listed

How we count (the report quotes this paragraph): every instruction the CPU
executes from the entry of the pair function to its return, on the path the
benchmark takes, one pair, in its steady state.  bench/bench_code.c runs one
pair of each pool method with the trap flag set (on the bench CPU, BH and
IRQs disabled, after warm-up pairs) and records the address of every
instruction (BTRACEIP lines); it also prints the bytes of every function on
those paths as they are in memory (BCODE lines: alternatives, paravirt and
ftrace patching applied).  Here each address is looked up in the objdump
disassembly of those bytes, which gives the instruction and its function;
the ftrace hook (a 5-byte nop at run time) and the return (ret, or the jump
to the return thunk) are instructions like the others.  Because the path is
the one that ran, every branch is on the side the benchmark takes: for the
pools, the tier-1 path with every likely condition true.

atomic_alloc_page() and atomic_alloc_free() are also listed from objdump of
the built atomic_alloc.ko (KO_DIR), at the offsets the trace visited; the
count is the same, and the listing shows where the module as built differs
from the code that ran (the patched sites).

Besides the count, each path is tallied for what weighs under emulation:
memory accesses (loads and stores: explicit memory operands except lea and
nops, a read-modify-write counting two, and the stack accesses of push,
pop, call and ret), conditional branches, per-CPU (%gs) accesses,
read-modify-writes of memory; and the 4 KiB page boundaries the path
crosses inside a function, which cost only under emulation (QEMU's TCG
chains a jump to the next translation block only within the page where
that block started).
"""

import bisect
import os
import re
import subprocess
import sys
import tempfile

# The definition the report quotes: the paragraph of the docstring above.
HOW_WE_COUNT = " ".join(__doc__[__doc__.index("How we count"):
                                __doc__.index("atomic_alloc_page() and")].split()
                        ).replace(" (the report quotes this paragraph)", "")

PREFIXES = {"lock", "rep", "repz", "repnz", "repe", "repne", "notrack", "bnd",
            "data16", "cs", "ds", "ss", "es", "fs", "gs", "addr32",
            "xacquire", "xrelease"}
STACK_MNEMS = ("push", "pop", "call", "ret")

# What each pair's instructions are counted under: the library's alloc and
# free functions, the rest is the caller's (the pair function, with any
# helper the library inlines into it) or elsewhere (thunks).
PAIRS = {
    "floor": ("bench_pair_floor", ["bench_floor_pop"], ["bench_floor_push"]),
    "floor_guarded": ("bench_pair_gfloor", ["bench_gfloor_pop"],
                      ["bench_gfloor_push"]),
    "floor_lockless": ("bench_pair_llfloor", ["bench_ll_pop"],
                       ["bench_ll_push"]),
    "floor_split": ("bench_pair_sfloor", ["bench_split_pop"],
                    ["bench_split_push"]),
    "atomic_alloc": ("bench_pair_aa", ["atomic_alloc_page"],
                     ["atomic_alloc_free"]),
    "page_pool": ("bench_pair_pp",
                  ["page_pool_alloc_pages", "page_pool_alloc_netmems"],
                  ["page_pool_put_unrefed_netmem",
                   "page_pool_put_defragged_page"]),
    "timer": ("bench_pair_timer", [], []),
}
KO_FUNCS = {"atomic_alloc_page": "atomic_alloc.ko",
            "atomic_alloc_free": "atomic_alloc.ko"}


class Insn:
    def __init__(self, addr, text):
        self.addr = addr
        self.text = " ".join(text.split("#")[0].split()) if "#" in text \
            else " ".join(text.split())
        words = self.text.split()
        i = 0
        while i < len(words) - 1 and words[i] in PREFIXES:
            i += 1
        self.mnem = words[i] if words else ""
        self.ops = " ".join(words[i + 1:])

    def base(self):
        for b in STACK_MNEMS + ("jmp",):
            if self.mnem.startswith(b):
                return b
        return self.mnem

    def is_branch(self):
        return self.mnem.startswith("j") or self.base() == "call"

    def is_cond(self):
        return self.mnem.startswith("j") and self.base() != "jmp"

    def is_nop(self):
        return self.mnem.startswith("nop") or self.text == "xchg %ax,%ax"

    def mem_accesses(self):
        if self.is_nop() or self.mnem.startswith("lea") or \
                self.mnem.startswith("endbr"):
            return 0
        n = 1 if "(" in self.ops and not self.is_branch() else 0
        if self.is_rmw():
            n += 1          # the read and the write
        if self.base() in STACK_MNEMS or self.mnem.startswith(("pushf", "popf")):
            n += 1
        return n

    def is_rmw(self):
        if "(" not in self.ops or self.is_branch() or self.mnem.startswith(
                ("mov", "lea", "cmp", "test", "nop", "push", "pop", "bt ")):
            return False
        return "(" in self.ops.split(",")[-1]

    def percpu(self):
        return "%gs:" in self.ops


class Func:
    def __init__(self, name, start, size):
        self.name = name
        self.start = start
        self.size = size
        self.insns = {}         # address -> Insn

    def contains(self, addr):
        return self.start <= addr < self.start + self.size


def _objdump(args):
    return subprocess.run(["objdump"] + args, check=True, capture_output=True,
                          text=True).stdout


_LINE = re.compile(r"^\s*([0-9a-f]+):\t(.*)$")


def disasm_bytes(name, addr, code):
    """A function from its bytes at its run-time address."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        out = _objdump(["-D", "-b", "binary", "-m", "i386:x86-64", "-w",
                        "--no-show-raw-insn", "--adjust-vma=0x%x" % addr,
                        f.name])
    fn = Func(name, addr, len(code))
    for line in out.splitlines():
        m = _LINE.match(line)
        if m and m.group(2).strip() and not m.group(2).startswith("(bad)"):
            fn.insns[int(m.group(1), 16)] = Insn(int(m.group(1), 16), m.group(2))
    return fn


def disasm_ko(path, names):
    """Functions of a built module by name: {name: Func} with offsets from
    the function's start as addresses, relocation targets in the text."""
    out = _objdump(["-d", "-r", "-l", "--no-show-raw-insn", path])
    funcs, cur = {}, None
    src_fn, src_line = "", ""
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            cur = None
            if m.group(2) in names:
                cur = Func(m.group(2), int(m.group(1), 16), 0)
                funcs[cur.name] = cur
            continue
        if cur is None:
            continue
        # objdump -l: "inlined_fn():" and "/path/file.c:123 (discriminator 2)"
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_.]*)\(\):$", line)
        if m:
            src_fn = m.group(1)
            continue
        m = re.match(r"^(/\S+?):(\d+)", line)
        if m:
            src_line = "%s:%s" % (os.path.basename(m.group(1)), m.group(2))
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+(R_X86_64_\w+)\s+(\S+)$", line)
        if m:
            last = max(cur.insns) if cur.insns else None
            if last is not None:
                ins = cur.insns[last]
                ins.text += " <%s>" % m.group(3)
            continue
        m = _LINE.match(line)
        if m and m.group(2).strip():
            off = int(m.group(1), 16) - cur.start
            cur.insns[off] = Insn(off, m.group(2))
            cur.insns[off].src = (src_fn, src_line)
            cur.size = off + 1
    return funcs


class Trace:
    def __init__(self, method, order, run, ok, overflow):
        self.method, self.order, self.run = method, order, run
        self.ok, self.overflow = ok, overflow
        self.ips = []


class Code:
    """The run-time code and the traces of one guest log."""

    def __init__(self, lines):
        heads, chunks, self.ksyms = {}, {}, {}
        self.traces = {}        # (method, order) -> [Trace]
        self.skip = ""
        for line in lines:
            line = line.replace("\r", "")
            if not line.startswith(("BCODE", "BKSYM", "BTRACE")):
                continue
            word = line.split(" ", 1)[0]
            d = dict(t.split("=", 1) for t in line.split()[1:] if "=" in t)
            if word == "BCODEFN":
                heads[d["fn"]] = (int(d["addr"], 16), int(d["size"]))
            elif word == "BCODE":
                chunks.setdefault(d["fn"], {})[int(d["off"])] = \
                    bytes.fromhex(d["hex"])
            elif word == "BKSYM":
                w = line.split()
                if len(w) >= 4 and w[2] in "tTwW":
                    self.ksyms.setdefault(int(w[1], 16), w[3])
            elif word == "BTRACE":
                t = Trace(d["method"], int(d["order"]), int(d["run"]),
                          d.get("ok") == "1", d.get("overflow") == "1")
                self.traces.setdefault((t.method, t.order), []).append(t)
            elif word == "BTRACEIP":
                runs = self.traces.get((d["method"], int(d["order"])), [])
                for t in runs:
                    if t.run == int(d["run"]):
                        t.ips.extend(int(x, 16) for x in d["ips"].split(",") if x)
            elif word == "BTRACESKIP":
                self.skip = line.split("why=", 1)[-1]
        self.funcs = {}
        for name, (addr, size) in heads.items():
            parts = chunks.get(name, {})
            code = b"".join(parts[o] for o in sorted(parts))
            if len(code) == size:
                self.funcs[name] = disasm_bytes(name, addr, code)
        self._kaddrs = sorted(self.ksyms)

    def where(self, addr):
        """(function name, Insn or None) of a run-time address."""
        for f in self.funcs.values():
            if f.contains(addr):
                return f.name, f.insns.get(addr)
        i = bisect.bisect_right(self._kaddrs, addr) - 1
        if i >= 0 and addr - self._kaddrs[i] < 4096:
            a = self._kaddrs[i]
            return "%s+0x%x" % (self.ksyms[a], addr - a), None
        return "0x%x" % addr, None


def tally(insns):
    return {
        "instructions": len(insns),
        "memory_accesses": sum(i.mem_accesses() for i in insns if i),
        "conditional_branches": sum(1 for i in insns if i and i.is_cond()),
        "percpu_accesses": sum(1 for i in insns if i and i.percpu()),
        "rmw_on_memory": sum(1 for i in insns if i and i.is_rmw()),
    }


def pair_steps(code, trace, pair_fn):
    """The steps (function, offset, Insn) of one traced pair: from the pair
    function's entry to its return."""
    f = code.funcs.get(pair_fn)
    if f is None:
        return None
    steps = [code.where(ip) + (ip,) for ip in trace.ips]
    try:
        first = next(i for i, s in enumerate(steps) if s[2] == f.start)
    except StopIteration:
        return None
    last = max(i for i, s in enumerate(steps) if s[0] == pair_fn)
    out = []
    for name, ins, ip in steps[first:last + 1]:
        fn = code.funcs.get(name)
        out.append((name, ip - fn.start if fn else None, ins))
    return out


def analyse(lines, ko_dir=None):
    """Everything the report needs about the traced pairs, as a dict; None
    when the log has no traces."""
    code = Code(lines)
    if not code.traces:
        return {"skip": code.skip} if code.skip else None
    res = {"pairs": [], "functions": {}, "static": {}, "listings": {}}
    for (method, order), runs in sorted(code.traces.items()):
        spec = PAIRS.get(method)
        if spec is None:
            continue
        pair_fn, alloc_fns, free_fns = spec
        paths = [pair_steps(code, t, pair_fn) for t in runs if t.ok and not t.overflow]
        paths = [p for p in paths if p]
        if not paths:
            res["pairs"].append({"method": method, "order": order,
                                 "error": "no usable trace"})
            continue
        p = paths[0]
        counts = sorted({len(q) for q in paths})
        by_fn = {}
        for name, _, _ in p:
            key = name if name in code.funcs else "elsewhere: " + name.split("+")[0]
            by_fn[key] = by_fn.get(key, 0) + 1
        alloc = [s for s in p if s[0] in alloc_fns]
        free = [s for s in p if s[0] in free_fns]
        caller = [s for s in p if s[0] == pair_fn]
        other = [s for s in p if s[0] not in alloc_fns + free_fns + [pair_fn]]
        # Consecutive instructions of one function on two 4 KiB pages: under
        # TCG a jump is chained to the next translation block only within
        # the page where the block started, so each costs a lookup.
        cross = sum(1 for a, b in zip(p, p[1:])
                    if a[0] == b[0] and a[2] and b[2] and
                    (a[2].addr >> 12) != (b[2].addr >> 12))
        entry = {"method": method, "order": order, "runs": len(paths),
                 "page_crossings_in_functions": cross,
                 "counts_agree": len(counts) == 1,
                 "total": tally([s[2] for s in p]),
                 "alloc": tally([s[2] for s in alloc]),
                 "free": tally([s[2] for s in free]),
                 "caller": tally([s[2] for s in caller]),
                 "other": tally([s[2] for s in other]),
                 "by_function": by_fn,
                 "unknown": sum(1 for s in p if s[2] is None and s[0] in code.funcs)}
        res["pairs"].append(entry)
        if order == 0:
            for name in sorted({s[0] for s in p if s[0] in code.funcs}):
                st = [s for s in p if s[0] == name]
                res["functions"][name] = tally([s[2] for s in st])
                res["listings"][name] = ["%s+0x%x: %s" % (
                    name, off, ins.text if ins else "?") for _, off, ins in st]
            res["listings"]["pair:" + method] = [
                "%s%s: %s" % (n, "+0x%x" % off if off is not None else "",
                              ins.text if ins else "(not in the dumped code)")
                for n, off, ins in p]
    if ko_dir:
        _static(res, code, ko_dir)
    return res


def _static(res, code, ko_dir):
    """atomic_alloc's functions from objdump of the built module, at the
    offsets the order-0 trace visited."""
    by_ko = {}
    for name, ko in KO_FUNCS.items():
        by_ko.setdefault(ko, []).append(name)
    traces = code.traces.get(("atomic_alloc", 0), [])
    t = next((t for t in traces if t.ok and not t.overflow), None)
    if t is None:
        return
    p = pair_steps(code, t, PAIRS["atomic_alloc"][0]) or []
    for ko, names in by_ko.items():
        path = os.path.join(ko_dir, ko)
        if not os.path.exists(path):
            continue
        try:
            funcs = disasm_ko(path, set(names))
        except (OSError, subprocess.CalledProcessError):
            continue
        for name in names:
            f = funcs.get(name)
            offs = [off for n, off, _ in p if n == name]
            if f is None or not offs:
                continue
            insns = [f.insns.get(o) for o in offs]
            rt = [ins for n, _, ins in p if n == name]
            diff = []
            for o, s_ins, r_ins in zip(offs, insns, rt):
                if s_ins is None:
                    diff.append("+0x%x: not an instruction boundary in %s" % (o, ko))
                elif r_ins and s_ins.mnem != r_ins.mnem:
                    diff.append("+0x%x: built %s, ran %s" % (o, s_ins.text, r_ins.text))
            by_src = {}
            for i in insns:
                if i is not None:
                    k = i.src[0] or name
                    by_src[k] = by_src.get(k, 0) + 1
            res["static"][name] = {
                "module": ko, "tally": tally([i for i in insns if i]),
                "matched": all(i is not None for i in insns),
                "patched_sites": diff,
                "by_source_function": by_src,
                "listing": ["%s+0x%x: %-40s %s() %s" % (
                    name, o, i.text if i else "?", i.src[0] if i else "",
                    i.src[1] if i else "") for o, i in zip(offs, insns)]}


def main(argv):
    if len(argv) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    res = analyse(lines, argv[2] if len(argv) > 2 else None)
    if not res:
        print("no traces in %s" % argv[1])
        return 1
    for e in res.get("pairs", []):
        if "error" in e:
            print("%s order %d: %s" % (e["method"], e["order"], e["error"]))
            continue
        print("%s order %d: %d instructions (alloc %d, free %d, caller %d, "
              "elsewhere %d), %d memory accesses, %d conditional branches; "
              "%d runs%s" % (e["method"], e["order"], e["total"]["instructions"],
                             e["alloc"]["instructions"], e["free"]["instructions"],
                             e["caller"]["instructions"], e["other"]["instructions"],
                             e["total"]["memory_accesses"],
                             e["total"]["conditional_branches"], e["runs"],
                             "" if e["counts_agree"] else " (counts differ)"))
    for name, lst in sorted(res.get("listings", {}).items()):
        if name.startswith("pair:"):
            print("\n%s" % name)
            print("\n".join("    " + x for x in lst))
    for name, st in sorted(res.get("static", {}).items()):
        print("\n%s from %s: %d instructions; patched at run time: %s"
              % (name, st["module"], st["tally"]["instructions"],
                 "; ".join(st["patched_sites"]) or "nothing"))
        print("\n".join("    " + x for x in st["listing"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
