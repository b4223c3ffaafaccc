"""The ``leafgrad`` command: ``tour`` walks through the founding example; ``demo`` trains."""

from __future__ import annotations

import argparse
import sys
import textwrap

import leafgrad as torch  # the tour's code reads exactly as the PyTorch tutorial's


def _say(text: str = "") -> None:
    print(textwrap.fill(text, 88) if text else "")


def _code(line: str) -> None:
    print(f"\n>>> {line}")


def _chain(fn) -> list:
    """The nodes from ``fn`` down to the leaves, following first inputs."""
    out = []
    while fn is not None:
        out.append(fn)
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return out


def tour() -> None:
    """Run the founding example line by line and say what each line did."""
    _say("The founding example: x is a 2x2 leaf tensor, z = sum of its squares; backward() "
         "applies the chain rule to fill x.grad. Every value below is computed live.")
    _code("x = torch.tensor([[1.0, 0.], [-1., 1.]], requires_grad=True)")
    x = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], requires_grad=True)
    print(x)
    _say(f"x is a leaf (x.is_leaf = {x.is_leaf}): you created it, no operation produced it, so "
         f"x.grad_fn is {x.grad_fn}. requires_grad=True asks autograd to record every operation "
         "that uses x, so that gradients can flow back to it.")

    _code("z = x.pow(2).sum()")
    y = x.pow(2)
    z = y.sum()
    print(z)
    nodes = _chain(z.grad_fn)
    _say("Two operations ran, and each recorded a node of the backward graph: "
         + " -> ".join(type(n).__name__ for n in nodes) + ". z is not a leaf: its grad_fn "
         f"is {type(z.grad_fn).__name__}, and z.requires_grad is {z.requires_grad} because "
         "something it came from requires grad.")

    _code("print(z.is_leaf, x.is_leaf, x.grad_fn, z.grad_fn)")
    print(z.is_leaf, x.is_leaf, x.grad_fn, z.grad_fn)
    _code("print(z.grad_fn.next_functions, z.grad_fn.next_functions[0][0].next_functions)")
    print(z.grad_fn.next_functions, z.grad_fn.next_functions[0][0].next_functions)
    _say("next_functions are the edges of the graph: (node, which output of it). "
         f"{type(nodes[0]).__name__} leads to {type(nodes[1]).__name__}, which leads to "
         "AccumulateGrad: the node that adds the final gradient into the leaf x's .grad.")

    _code("z.backward()")
    flat = x.detach().reshape(-1).tolist()
    terms = " + ".join(f"x{i + 1}²" for i in range(len(flat)))
    _say(f"z = {terms}, so by the chain rule each ∂z/∂xᵢ is ∂z/∂(xᵢ²) · ∂(xᵢ²)/∂xᵢ. "
         "backward() walks the nodes from z to x, each applying its local derivative:")
    pow_node = nodes[1]
    for node in nodes[:-1]:
        formula = next(iter(type(node).formula.values()))
        _say(f"  {type(node).__name__}: gradient for its input = {formula}")
    z.backward()
    grads = x.grad.reshape(-1).tolist()
    e = pow_node.exponent
    for i, (xi, gi) in enumerate(zip(flat, grads)):
        print(f"    ∂z/∂x{i + 1} = 1 · {e} · x{i + 1}^{e - 1} = {e} · ({xi:g}) = {gi:g}")
    _say("AccumulateGrad then stores these four numbers in x.grad:")
    _code("print(x.grad)")
    print(x.grad)
    _say("The graph's saved values (x, for PowBackward0) are freed now; calling z.backward() "
         "again would raise an error unless the first call passed retain_graph=True.")


def demo(steps: int = 200) -> None:
    """Fit y = 3x + 2 by gradient descent with leafgrad, printing the loss as it falls."""
    import numpy as np

    rng = np.random.default_rng(0)
    xs = torch.tensor(rng.uniform(-1, 1, size=(64, 1)).astype("float32"))
    ys = 3 * xs + 2 + torch.tensor(rng.normal(0, 0.05, size=(64, 1)).astype("float32"))
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    print("Fitting y = 3x + 2 with a linear model, mean squared error, plain gradient descent")
    for step in range(steps + 1):
        pred = xs @ w + b
        loss = ((pred - ys) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        if step % 40 == 0:
            print(f"  step {step:4d}  loss {loss.item():.5f}  w {w.item():+.3f}  b {b.item():+.3f}")
    print(f"learned w = {w.item():.3f} (true 3), b = {b.item():.3f} (true 2)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``leafgrad`` console script."""
    p = argparse.ArgumentParser(prog="leafgrad", description=__doc__)
    p.add_argument("--version", action="version", version=f"leafgrad {torch.__version__}")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("tour", help="walk through the founding example, line by line")
    d = sub.add_parser("demo", help="train a tiny model and print its loss")
    d.add_argument("--steps", type=int, default=200)
    args = p.parse_args(argv)
    if args.cmd == "tour":
        tour()
    elif args.cmd == "demo":
        demo(args.steps)
    else:
        p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
