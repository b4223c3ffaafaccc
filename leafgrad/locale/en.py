"""English narrative strings: explain(), why_none(), the pictures and `leafgrad tour`."""

from __future__ import annotations

STRINGS: dict[str, str] = {
    # -- explain() -------------------------------------------------------------------------------
    "title": "The backward pass of {out}: {n} {steps}, in the order the engine runs them",
    "step_one": "step",
    "step_many": "steps",
    "intro_leaves": "Leaves (tensors you created; backward() stores their gradients in .grad): "
                    "{names}.",
    "intro_nonleaves": "Non-leaf tensors (each made by an operation that recorded a node, its "
                       "grad_fn; their .grad is not kept unless you call .retain_grad()): "
                       "{names}.",
    "notation": "Notation: {items} (numbered row by row). ∂{out}/∂{name} is the gradient of "
                "{out} with respect to {name}: how much {out} changes per unit change of each "
                "element of {name}.",
    "notation_item": "{elems} are the elements of {name}",
    "list_sep": "; ",
    "comma": ", ",
    "input_item": "{label} {shape} ({kind})",
    "scalar_form": "In scalar terms:  {out} = {expr}",
    "no_sites": "(Creation sites were not recorded. Build the graph inside `with "
                "leafgrad.autograd.explaining():`, or after "
                "leafgrad.autograd.sites.record_sites(True), to see the line of your code that "
                "made each node.)",
    "step_head": "Step {i} of {n}: {name}  —  {forward}",
    "site": "created at {where}:   {line}",
    "shapes": "input {inputs}  →  output {out} {shape}",
    "leaf_word": "leaf",
    "nonleaf_word": "non-leaf",
    "const_word": "constant, no grad",
    "seed_scalar": "incoming gradient: ∂{out}/∂{out} = 1. backward() on a scalar starts from 1 "
                   "(a change in {out} changes {out} by the same amount).",
    "seed_given": "incoming gradient: the gradient passed to backward(): {val}",
    "incoming": "incoming gradient ∂{root}/∂{out} = {val}",
    "unused_output": "{out} was not used, so no gradient comes back for it (it counts as "
                     "zero).",
    "paths": "{out} is used {k} times, and autograd adds the gradients that come back along "
             "each use (the multivariable chain rule): {terms} = {val}",
    "local": "what this node does: {expr}",
    "local_elem": "local derivative: ∂{out}ᵢ/∂{inp}ᵢ = {expr}",
    "formula": "leafgrad's formula for the gradient of {inp} (called {key} there): "
               "{formula}{params}",
    "formula_same": "leafgrad's formula for the gradient of {inp}: {formula}{params}",
    "chain_elem_head": "chain rule: ∂{root}/∂{inp}ᵢ = ∂{root}/∂{out}ᵢ × ∂{out}ᵢ/∂{inp}ᵢ"
                       "{general}, element by element:",
    "chain_general": " = {c} × {local} = {expr}",
    "chain_general_c": " = {c} × {local}",
    "elem_copy": "∂{root}/∂{inp}{j} (via {out}{k})",
    "chain": "chain rule: ∂{root}/∂{inp} = {expr} = {val}",
    "chain_value": "chain rule: ∂{root}/∂{inp} = {val}",
    "broadcast": "automatic step: {inp} had shape {small} and was broadcast to {big} in the "
                 "forward pass, so the engine sums the gradient over the broadcast dimensions: "
                 "{before} → {after}",
    "cast": "automatic step: the gradient is cast to {inp}'s dtype {dtype}.",
    "no_grad_input": "{inp} does not require grad, so no gradient is computed for it.",
    "no_grad_number": "{inp} is a plain number, a constant: there is no gradient to compute "
                      "for it.",
    "sends": "→ sends ∂{root}/∂{inp} = {val} to {target}",
    "target_leaf": "the AccumulateGrad node of the leaf {name}",
    "target_node": "{node}, the node that made {name}",
    "retained": "{name}.retain_grad() was called, so {name}.grad keeps this gradient: {val}",
    "hook": "a hook is registered here; explain() does not run hooks, so if it changes the "
            "gradient the real pass differs from the numbers shown.",
    "no_grad_arrived": "no gradient reached this node (every consumer sent None), so it sends "
                       "nothing on.",
    "acc_head": "Step {i} of {n}: AccumulateGrad  —  the leaf {name}",
    "acc_what": "{name} is a leaf, so the chain rule stops here: AccumulateGrad adds the "
                "incoming gradient into {name}.grad.",
    "acc_new": "{name}.grad was None, so it becomes {val}",
    "acc_add": "{name}.grad already held {old} (from an earlier backward(); call zero_grad() "
               "or set .grad = None to start from zero), so the new gradient is added: "
               "{old} + {new} = {val}",
    "result_head": "Result",
    "result_leaf": "{name}.grad = {repr}",
    "result_none": "{name}.grad: no gradient reaches it.",
    "result_general": "that is, ∂{out}/∂{name}ᵢ = {expr} for every element",
    "not_applied": "explain() has not changed any .grad; {out}.backward() stores these values "
                   "(or call explain(..., backward=True)).",
    "applied": "backward() has run: the .grad values above are now stored in the leaves.",
    "stats": "shape {shape}: mean {mean}, std {std}, min {min}, max {max}",
    "stats_empty": "shape {shape} (empty)",
    # -- why_none() ------------------------------------------------------------------------------
    "why_title": "Why is {name}.grad None?",
    "why_has_grad": "It is not: {name}.grad is already set ({val}).",
    "why_integer": "{name} has the integer dtype {dtype}. Only floating-point tensors can require "
                   "gradients: an integer cannot change by an infinitesimal amount. Convert it "
                   "first: {name} = {name}.float().requires_grad_().",
    "why_non_leaf": "{name} is not a leaf: it was made by an operation ({node}), so it is an "
                    "intermediate result, and backward() keeps .grad only for leaves. Call "
                    "{name}.retain_grad() before backward() to keep its gradient, or look at the "
                    "leaf it was computed from.",
    "why_non_leaf_rebound": "Line {line} binds the name {name} to the result of an operation "
                            "on the leaf you created:  {code}  — that leaf is hidden behind the "
                            "operation, and it is the one whose .grad gets filled. Build the "
                            "leaf in one step and name it (w = torch.randn(3) * 0.01, then "
                            "w.requires_grad_()), or keep the leaf's own name for it.",
    "why_detached": "{name} was cut out of the graph by detach(): it shares memory with {src}, "
                    "but carries no history, so no gradient can flow into it. Use {src} itself "
                    "where you need the gradient.",
    "why_detached_src": "a tensor that requires grad",
    "why_no_grad": "{name} was computed under no_grad() (or inference_mode): autograd recorded "
                   "nothing, so {name} has no grad_fn and requires_grad=False.",
    "why_no_grad_line": "Line {line} is inside a grad-disabling block:  {code}",
    "why_requires_grad_false": "{name} does not require grad: it is a leaf created without "
                               "requires_grad=True, so autograd never tracks it. Create it with "
                               "requires_grad=True, or call {name}.requires_grad_() before "
                               "using it.",
    "why_maybe_detached_or_no_grad": "If you expected it to require grad: it may have been made "
                                     "by .detach() / .data / torch.tensor(other_tensor), or "
                                     "computed under no_grad(); each gives a tensor with no "
                                     "history.",
    "why_not_on_path": "{name} requires grad, but it is not on any path from {out} back to the "
                       "leaves: {out} was not computed from it, so backward() from {out} never "
                       "reaches it.",
    "why_not_on_path_line": "Line {line} uses {name} in a way that cuts the graph:  {code}",
    "why_replaced": "{name} was changed in place (version {version}) after {out} was computed "
                    "from it. {out}'s graph holds the node of {name}'s old value; {name} now has "
                    "a new grad_fn ({node}) that is not on {out}'s graph, so its .grad (set by "
                    "retain_grad) is never filled. Compute {out} after the change, or use an "
                    "out-of-place op ({name} = {name} + 1 rather than {name} += 1).",
    "why_not_run": "{name} is on the path from {out}, so backward() will fill {name}.grad: it "
                   "has not run yet since {out} was computed (or the gradient was reset to None, "
                   "e.g. by optimizer.zero_grad()).",
    "why_no_output": "{name} is a leaf that requires grad, so backward() fills its .grad when "
                     "it reaches {name}. Either backward() has not been called yet, the "
                     "gradient was reset to None (optimizer.zero_grad()), or {name} is not on "
                     "the path from the output you called backward() on. Pass that output to "
                     "check: why_none({name}, output).",
    "why_output_no_grad": "{out} itself does not require grad, so there is no graph at all: "
                          "nothing it was computed from requires grad, or it was computed under "
                          "no_grad().",
    "why_retained_not_run": "{name}.retain_grad() was called, so backward() will keep its "
                            "gradient once it runs through {name}; it has not yet.",
    "why_tensor": "the tensor",
    "why_code": "code: {code}",
    # -- leafgrad tour / explain ----------------------------------------------------------------
    "tour_title": "leafgrad tour: the founding example, taken apart line by line",
    "tour_intro": "This five-line program is the one PyTorch's autograd tutorials take apart. "
                  "Each line below runs live in leafgrad: every value, node and gradient you "
                  "see is computed, not typed in.",
    "tour_s1": "1. A leaf tensor",
    "tour_import": "leafgrad speaks PyTorch's API, so `import leafgrad as torch` lets PyTorch "
                   "code run unchanged.",
    "tour_leaf": "x is a leaf: you created it directly, no operation produced it, so x.is_leaf "
                 "is {is_leaf} and x.grad_fn is {grad_fn}. requires_grad=True asks autograd to "
                 "record every operation that uses x, so that gradients can later flow back to "
                 "it. Until a backward pass reaches it, x.grad is {grad}.",
    "tour_s2": "2. Computing records the graph",
    "tour_nodes": "Two operations ran, and each recorded one node of the backward graph: "
                  "x.pow(2) recorded {pow}, and .sum() recorded {sum}. z is not a leaf: an "
                  "operation made it, so z.grad_fn is {sum}, and z.requires_grad is {rg} "
                  "because it was computed from a tensor that requires grad.",
    "tour_edges": "next_functions are the graph's edges: each node points to the nodes of its "
                  "inputs, as (node, output index). Following them from z: {chain}. "
                  "AccumulateGrad is the node that will add x's gradient into x.grad. The whole "
                  "graph, drawn by leafgrad:",
    "tour_s3": "3. The mathematics",
    "tour_math": "Number the elements of x row by row: {values}. Then",
    "tour_math2": "Each xᵢ appears in exactly one term, and the derivative of xᵢ² is 2xᵢ, so",
    "tour_math3": "backward() computes exactly these numbers, one node at a time, by the chain "
                  "rule. Here is every step it takes, in the order the engine runs them "
                  "(explain() narrates the pass without touching x.grad):",
    "tour_s4": "4. z.backward(), step by step",
    "tour_s5": "5. The result",
    "tour_result": "Each element is 2xᵢ: {checks}. The engine's x.grad equals the numbers "
                   "narrated above: {match}.",
    "tour_match_yes": "yes, element for element",
    "tour_match_no": "NO (please report this as a bug)",
    "tour_after_head": "Afterwards",
    "tour_after": "The values the graph saved for backward (PowBackward0 kept x, to compute "
                  "2·x) are freed now, to save memory: calling z.backward() a second time "
                  "raises an error, unless the first call passed retain_graph=True. Had it done "
                  "so, a second backward() would add into x.grad again (gradients accumulate), "
                  "which is why training loops call optimizer.zero_grad().",
    "tour_next": "Try it on your own code:  leafgrad explain your_script.py --html graph.html  "
                 "(or, in Python: leafgrad.autograd.explain(loss), leafgrad.viz.draw(loss), "
                 "leafgrad.autograd.why_none(t, loss)).",
    "cli_ran": "{script} ran {k} backward pass(es); this is the last one.",
    "cli_no_backward": "{script} ran, but it called no backward(): there is nothing to explain.",
    "cli_real_torch": "{script} ran with the real PyTorch ({names}), not leafgrad, so leafgrad "
                      "saw none of its backward passes. Why: the script got torch from a module "
                      "that had imported it before leafgrad's import hook was installed; run it "
                      "in a fresh process (leafgrad explain {script}) or import torch directly "
                      "in the script.",
    "cli_torch_preloaded": "leafgrad: note: the real torch was already imported in this process; "
                           "the script's imports got leafgrad, but objects made earlier with the "
                           "real torch are still torch's.",
    "cli_wrote": "wrote {path}",
    # -- pictures --------------------------------------------------------------------------------
    "viz_leaf": "leaf",
    "viz_output": "output",
    "viz_grad": "grad",
    "viz_value": "value",
    "viz_step": "Step",
    "viz_next": "Next step ▶",
    "viz_prev": "◀ Back",
    "viz_reset": "Reset",
    "viz_play": "Play",
    "viz_start": "Press “Next step” to run the backward pass one node at a time.",
    "viz_done": "Done: every leaf's gradient is computed.",
    "viz_title": "leafgrad: the backward pass of {out}",
    "viz_legend": "blue: leaves · grey: operation nodes · green: output · "
                  "gold: the node running now",
    "viz_fit": "Fit",
    "viz_full": "The whole narration",
    "viz_seen": "(shared, shown above)",
}

# What a non-elementwise node does to the gradient, by node name ({x}, {in_shape}, {dims}, ...).
OP_NOTES: dict[str, str] = {
    "SumBackward0": "{out} is the sum of all elements of {x}; each element enters the sum once "
                    "(∂{out}/∂{x}ᵢ = 1), so the incoming gradient is copied to every element "
                    "of {x}, shape {in_shape}",
    "SumBackward1": "{out} sums {x} over dim {dims}; each element enters one sum once, so each "
                    "output gradient is copied along dim {dims}, back to shape {in_shape}",
    "MeanBackward0": "{out} is the mean of the {n} elements of {x}; each contributes 1/{n} = "
                     "{inv}, so every element gets the incoming gradient divided by {n}",
    "MeanBackward1": "{out} averages {x} over dim {dims} ({n} elements each); each element gets "
                     "its output's gradient divided by {n}",
    "MmBackward0": "{out} = {a} @ {b}: each entry of {out} is a row of {a} times a column of "
                   "{b}, so ∂L/∂{a} = ∂L/∂{out} @ {b}ᵀ and ∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "MatmulBackward0": "{out} = {a} @ {b}: each entry of {out} is a row of {a} times a column "
                       "of {b}, so ∂L/∂{a} = ∂L/∂{out} @ {b}ᵀ and ∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "MvBackward0": "{out} = {a} @ {b} (matrix times vector): ∂L/∂{a} is the outer product of "
                   "∂L/∂{out} and {b}; ∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "DotBackward0": "{out} = Σ {a}ᵢ·{b}ᵢ, so ∂{out}/∂{a}ᵢ = {b}ᵢ and ∂{out}/∂{b}ᵢ = {a}ᵢ",
    "ViewBackward0": "a reshape moves no numbers, so the gradient is reshaped back to {in_shape}",
    "UnsafeViewBackward0": "a reshape moves no numbers, so the gradient is reshaped back to "
                           "{in_shape}",
    "TransposeBackward0": "a transpose only moves numbers, so the gradient is transposed back "
                          "(dims {dim0} and {dim1})",
    "TBackward0": "a transpose only moves numbers, so the gradient is transposed back",
    "PermuteBackward0": "a permutation only moves numbers, so the gradient is permuted back",
    "UnsqueezeBackward0": "unsqueeze added a dim of size 1; the gradient loses it again",
    "SqueezeBackward0": "squeeze removed dims of size 1; the gradient gets them back "
                        "({in_shape})",
    "SqueezeBackward1": "squeeze removed a dim of size 1; the gradient gets it back ({in_shape})",
    "SqueezeBackward2": "squeeze removed dims of size 1; the gradient gets them back "
                        "({in_shape})",
    "ExpandBackward0": "expand repeated {x} without copying; the gradients of all the repeats "
                       "are summed back to shape {in_shape}",
    "SelectBackward0": "indexing picked one slice of {x}; its gradient goes back to that slice, "
                       "zeros elsewhere (shape {in_shape})",
    "SliceBackward0": "slicing picked part of {x}; the gradient goes back to those positions, "
                      "zeros elsewhere (shape {in_shape})",
    "IndexBackward0": "indexing picked elements of {x}; their gradients go back to those "
                      "positions (added where an element was picked twice), zeros elsewhere",
    "AliasBackward0": "an alias: the gradient passes unchanged",
    "ToCopyBackward0": "a conversion (dtype or device): the gradient is converted back",
    "WhereBackward0": "where() took each element from {a} or {b}; the gradient goes to the one "
                      "it came from, zero to the other",
}

# explain by module, diagnose() and the training monitor (locale/train_en.py)
from .train_en import MODULE_NOTES as MODULE_NOTES  # noqa: E402
from .train_en import STRINGS as _TRAIN  # noqa: E402

STRINGS.update(_TRAIN)
