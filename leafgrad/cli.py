"""The ``leafgrad`` command: ``run`` runs a PyTorch script on leafgrad, ``tour`` narrates the
founding example, ``explain`` narrates the last backward pass of your script, ``demo`` trains a
network on the bundled handwritten digits."""

from __future__ import annotations

import argparse
import linecache
import sys
import textwrap

import leafgrad as torch  # the tour's code reads exactly as the PyTorch tutorial's

# The founding example, as the tutorial writes it; the tour runs it line by line from this text,
# so the creation sites it reports point at these lines.
FOUNDING = """import leafgrad as torch
x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)
z = x.pow(2).sum()
z.backward()
print(x.grad)
"""
FOUNDING_FILE = "founding_example.py"


class _Tour:
    """Prints the tour: narrative paragraphs, and code run as at the Python prompt."""

    def __init__(self, lang: str) -> None:
        from .locale import strings

        self.S = strings(lang)
        self.lang = lang
        self.ns: dict = {}
        lines = FOUNDING.splitlines(keepends=True)
        # register the program's text so that creation sites (and tracebacks) can show its lines
        linecache.cache[FOUNDING_FILE] = (len(FOUNDING), None, lines, FOUNDING_FILE)
        self.lineno = {ln.strip(): i + 1 for i, ln in enumerate(lines)}

    def say(self, key: str, **kw) -> None:
        text = self.S[key].format(**kw)
        if self.lang == "en":
            text = textwrap.fill(text, 96)
        print(text)
        print()

    def head(self, key: str) -> None:
        text = self.S[key]
        print(text)
        print("-" * sum(2 if ord(c) > 0x2E80 else 1 for c in text))

    def run(self, line: str):
        """Run one line as the Python prompt would (echoing the value of an expression)."""
        print(f">>> {line}")
        n = self.lineno.get(line)
        fname = FOUNDING_FILE if n else "<tour>"
        pad = "\n" * ((n or 1) - 1)  # so that the code object's line numbers match the file's
        try:
            code = compile(pad + line, fname, "eval")
        except SyntaxError:
            exec(compile(pad + line, fname, "exec"), self.ns)  # noqa: S102 - our own text
            return None
        value = eval(code, self.ns)  # noqa: S307 - our own text
        if value is not None:
            print(repr(value))
        return value


def tour(lang: str = "en") -> None:
    """Run the founding example line by line and narrate what each line does."""
    from .autograd.explanation import explain, fmt_num, sub
    from .autograd.sites import recording_sites
    from .viz import to_text

    t = _Tour(lang)
    S = t.S
    title = S["tour_title"]
    print(title)
    print("=" * sum(2 if ord(c) > 0x2E80 else 1 for c in title))
    t.say("tour_intro")
    print(textwrap.indent(FOUNDING, "    "))
    with recording_sites():
        t.head("tour_s1")
        t.run("import leafgrad as torch")
        t.say("tour_import")
        t.run("x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)")
        t.run("x")
        x = t.ns["x"]
        print()
        t.say("tour_leaf", is_leaf=x.is_leaf, grad_fn=x.grad_fn, grad=x.grad)

        t.head("tour_s2")
        t.run("z = x.pow(2).sum()")
        t.run("z")
        z = t.ns["z"]
        print()
        sum_node = z.grad_fn
        pow_node = sum_node.next_functions[0][0]
        t.say("tour_nodes", pow=pow_node.name(), sum=sum_node.name(), rg=z.requires_grad)
        t.run("z.is_leaf, x.is_leaf, x.grad_fn, z.grad_fn")
        t.run("z.grad_fn.next_functions")
        t.run("z.grad_fn.next_functions[0][0].next_functions")
        print()
        chain = []
        fn = sum_node
        while fn is not None:
            chain.append(fn.name())
            fn = fn.next_functions[0][0] if fn.next_functions else None
        t.say("tour_edges", chain=" → ".join(chain))
        print(textwrap.indent(to_text(z, lang, names=t.ns), "    "))
        print()

        ex = explain(z, lang=lang, names=t.ns)
        t.head("tour_s3")
        flat = x.detach().reshape(-1).tolist()
        t.say("tour_math", values=", ".join(f"x{sub(i + 1)} = {fmt_num(v)}"
                                            for i, v in enumerate(flat)))
        print(f"    z = {ex.scalar_form}\n")
        t.say("tour_math2")
        general = ex.general_forms().get("x", "2·xᵢ")
        print(f"    ∂z/∂xᵢ = {general}\n")
        t.say("tour_math3")

        t.head("tour_s4")
        t.run("z.backward()")
        print()
        for step in ex.steps:
            print(ex.step_text(step, width=96 if lang == "en" else 0))
            print()

        t.head("tour_s5")
        t.run("print(x.grad)")
        print()
        grads = x.grad.reshape(-1).tolist()
        checks = ", ".join(f"2·({fmt_num(v)}) = {fmt_num(g)}" for v, g in zip(flat, grads))
        narrated = ex.grad_of(x)
        same = narrated is not None and narrated.tolist() == x.grad.tolist()
        t.say("tour_result", checks=checks, match=S["tour_match_yes" if same else "tour_match_no"])
        t.head("tour_after_head")
        t.say("tour_after")
        t.say("tour_next")


def explain_script(script: str, args: list[str], lang: str = "en", html: str | None = None,
                   svg: str | None = None, dot: str | None = None,
                   mermaid: str | None = None) -> int:
    """Run ``script`` (``import torch`` resolved to leafgrad) and narrate its last backward pass.

    Optionally writes pictures of it. Returns the script's exit status, or 1 when there was
    nothing to explain.
    """
    from ._torch_alias import run_script
    from .autograd.explanation import explaining
    from .locale import strings
    from .viz import Picture

    S = strings(lang)
    ns: dict = {}
    with explaining(lang=lang) as rec:
        status = run_script(script, args, namespace_out=ns)
    ex = rec.last
    report = ns.get("__leafgrad_alias__")
    if report is not None and report.preloaded:
        print(S["cli_torch_preloaded"], file=sys.stderr)
    if ex is None:
        print(_no_backward_reason(script, ns, S))
        return status or 1
    print()
    print(S["cli_ran"].format(script=script, k=rec.count))
    print()
    print(ex.text(lang))
    pic = Picture(ex.graph())
    for target in (svg, dot, mermaid):
        if target:
            pic.save(target)
            print(S["cli_wrote"].format(path=target))
    if html:
        ex.save_html(html, lang)
        print(S["cli_wrote"].format(path=html))
    return status


def _no_backward_reason(script: str, ns: dict, S: dict) -> str:
    """Why leafgrad saw no backward pass: none was called, or the script used the real torch."""
    from ._torch_alias import real_torch_in

    report = ns.get("__leafgrad_alias__")
    names = real_torch_in(ns)
    if names or (report is not None and report.appeared):
        what = ", ".join(names or report.appeared)
        return S["cli_real_torch"].format(script=script, names=what)
    return S["cli_no_backward"].format(script=script)


def run(script: str, args: list[str]) -> int:
    """``leafgrad run``: run a PyTorch script unchanged, ``import torch`` giving leafgrad."""
    from ._torch_alias import run_script

    ns: dict = {}
    status = run_script(script, args, namespace_out=ns)
    _torch_notes(script, ns)
    return status


def _torch_notes(script: str, ns: dict) -> None:
    """Say on stderr when the real torch was in the process already, or the script used it."""
    from ._torch_alias import real_torch_in
    from .locale import strings

    S = strings("en")
    report = ns.get("__leafgrad_alias__")
    if report is not None and report.preloaded:
        print(S["cli_torch_preloaded"], file=sys.stderr)
    names = real_torch_in(ns)
    if names:
        print(S["cli_real_torch"].format(script=script, names=", ".join(names)), file=sys.stderr)


def demo(epochs: int = 15, seed: int = 0) -> dict:
    """Train an MLP on the bundled 8x8 digits with nn, optim and DataLoader; report accuracy."""
    from . import demo as script

    path = script.__file__
    print("leafgrad demo: a neural network learns to read handwritten digits")
    print("  data: 1,797 8x8 images (UCI 'Optical Recognition of Handwritten Digits', CC BY 4.0,")
    print("        bundled with leafgrad): 1,437 to train on, 360 held out to test")
    print("  model: 64 pixels -> Linear(64, 128) -> ReLU -> Linear(128, 10), cross-entropy loss,")
    print(f"         SGD with momentum, {epochs} epochs of shuffled batches of 32 (DataLoader)")
    print(f"  the training code, ordinary PyTorch code on leafgrad: {path}")
    print()
    result = script.main(epochs=epochs, seed=seed)
    print()
    print(f"Read the code that just ran: {path}")
    print("Run it on PyTorch: replace its `import leafgrad as torch` with `import torch`; the "
          "same seed gives the same losses.")
    return result


_NPROC = ("-n", "--nproc", "--nproc-per-node", "--nproc_per_node")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``leafgrad`` console script."""
    from ._textout import ascii_fallback

    ascii_fallback()  # a cp1252 or ASCII stdout gets `d` for ∂, `->` for →, ... (no crash)
    p = argparse.ArgumentParser(prog="leafgrad", description=__doc__)
    p.add_argument("--version", action="version", version=f"leafgrad {torch.__version__}")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="run a PyTorch script unchanged, on leafgrad",
                       description="Run SCRIPT as `python SCRIPT ARGS` would, with every "
                                   "`import torch` resolved to leafgrad.")
    r.add_argument("-n", "--nproc", type=int, metavar="N",
                   help="start N ranks through mpirun (torch.distributed on MPI)")
    r.add_argument("script", help="the Python file to run")
    r.add_argument("args", nargs="*", help="the script's own arguments")
    t = sub.add_parser("tour", help="walk through the founding example, line by line")
    t.add_argument("--lang", choices=("en", "zh"), default="en", help="narrate in this language")
    e = sub.add_parser("explain", help="run a script and narrate its last backward pass")
    e.add_argument("script", help="the Python file to run (its own arguments go after --)")
    e.add_argument("--lang", choices=("en", "zh"), default="en")
    e.add_argument("--html", metavar="OUT.html", help="also write a page that steps through it")
    e.add_argument("--svg", metavar="OUT.svg", help="also write the graph as SVG")
    e.add_argument("--dot", metavar="OUT.dot", help="also write the graph as Graphviz DOT")
    e.add_argument("--mermaid", metavar="OUT.mmd", help="also write the graph as Mermaid")
    d = sub.add_parser("demo", help="train a network on the bundled handwritten digits")
    d.add_argument("--epochs", type=int, default=15, help="passes over the training images")
    d.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"] and len(argv) > 1 and not argv[1].startswith("-"):
        return run(argv[1], argv[2:])  # everything after the script is the script's
    if argv[:1] == ["run"] and len(argv) > 1 and (argv[1].split("=")[0] in _NPROC or
                                                 argv[1][:2] == "-n" and argv[1][2:].isdigit()):
        from .distributed.run import main as launch  # leafgrad run -n 4 train.py ARGS

        return launch(argv[1:])
    script_args: list[str] = []
    if argv[:1] == ["explain"] and "--" in argv:  # leafgrad explain a.py --html x -- ARGS
        k = argv.index("--")
        argv, script_args = argv[:k], argv[k + 1:]
    args = p.parse_args(argv)
    if args.cmd == "run":  # only reached for `leafgrad run -h` and the like
        return run(args.script, args.args)
    if args.cmd == "tour":
        tour(args.lang)
    elif args.cmd == "explain":
        return explain_script(args.script, script_args, args.lang, args.html, args.svg, args.dot,
                              args.mermaid)
    elif args.cmd == "demo":
        demo(args.epochs, args.seed)
    else:
        p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
