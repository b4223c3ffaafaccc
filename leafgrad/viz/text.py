"""Graphs as text: an indented tree, Mermaid flowchart source, Graphviz DOT source."""

from __future__ import annotations

import json

from ..locale import strings
from .graph import GNode, Graph


def _line(n: GNode, lang: str) -> str:
    S = strings(lang)
    if n.kind == "op":
        parts = [n.title, n.subtitle, n.shape]
    elif n.kind == "leaf":
        parts = [n.title, f"({S['viz_leaf']})", n.shape]
    else:
        parts = [n.title, f"({S['viz_output']})", n.shape]
    if n.value is not None and n.kind != "op":
        parts.append(f"= {n.value}")
    if n.grad is not None:
        parts.append(f"· {S['viz_grad']} {n.grad}")
    return "  ".join(p for p in parts if p)


def tree_text(g: Graph) -> str:
    """The graph as an indented tree, from the output down to the leaves."""
    S = strings(g.lang)
    lines: list[str] = []
    seen: set = set()
    targets = {e.dst for e in g.edges}
    roots = [n.id for n in g.nodes if n.id not in targets]
    # iterative DFS: (node id, prefix for this line, prefix for its children, connector)
    stack = [(r, "", "", "") for r in reversed(roots)]
    while stack:
        nid, prefix, child_prefix, conn = stack.pop()
        n = g.node(nid)
        if nid in seen:
            lines.append(f"{prefix}{conn}{n.title}  {S['viz_seen']}")
            continue
        seen.add(nid)
        lines.append(f"{prefix}{conn}{_line(n, g.lang)}")
        kids = g.children(nid)
        for k, e in reversed(list(enumerate(kids))):
            last = k == len(kids) - 1
            stack.append((e.dst, child_prefix, child_prefix + ("   " if last else "│  "),
                          "└─ " if last else "├─ "))
    return "\n".join(lines)


def _mm(text: str) -> str:
    # Mermaid labels are quoted strings: quotes become #quot; and brackets stay literal
    return text.replace('"', "#quot;")


def mermaid(g: Graph) -> str:
    """Mermaid ``flowchart`` source (renders on GitHub, in many editors and notebooks)."""
    S = strings(g.lang)
    out = ["flowchart TB"]
    for n in g.nodes:
        rows = [f"<b>{n.title}</b>"]
        if n.kind == "op":
            rows.append(n.subtitle)
        rows.append(n.shape)
        if n.grad is not None:
            rows.append(f"{S['viz_grad']} {n.grad}")
        label = _mm("<br/>".join(rows))
        shape = ('(["', '"])') if n.kind == "leaf" else (('[["', '"]]') if n.kind == "output"
                                                          else ('["', '"]'))
        out.append(f"    {n.id}{shape[0]}{label}{shape[1]}:::{n.kind}")
    for e in g.edges:
        out.append(f"    {e.src} -->|{_mm(e.label)}| {e.dst}" if e.label else
                   f"    {e.src} --> {e.dst}")
    out += ["    classDef op fill:#eeeeee,stroke:#555555",
            "    classDef leaf fill:#d6e8ff,stroke:#2f6db5",
            "    classDef output fill:#d9f2d0,stroke:#3c8a2e"]
    return "\n".join(out)


def _dq(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def dot(g: Graph) -> str:
    """Graphviz DOT source (``dot -Tsvg`` draws it, where Graphviz is installed)."""
    S = strings(g.lang)
    fill = {"op": "#eeeeee", "leaf": "#d6e8ff", "output": "#d9f2d0"}
    out = ["digraph leafgrad {", "    rankdir=TB;",
           '    node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
           '    edge [fontname="Helvetica", fontsize=9, color="#666666"];']
    for n in g.nodes:
        rows = [n.title]
        if n.kind == "op":
            rows.append(n.subtitle)
        rows.append(n.shape)
        if n.grad is not None:
            rows.append(f"{S['viz_grad']} {n.grad}")
        label = "\\n".join(_dq(r) for r in rows)
        out.append(f'    {n.id} [label="{label}", fillcolor="{fill[n.kind]}"];')
    for e in g.edges:
        lab = f' [label="{_dq(e.label)}"]' if e.label else ""
        out.append(f"    {e.src} -> {e.dst}{lab};")
    out.append("}")
    return "\n".join(out)
