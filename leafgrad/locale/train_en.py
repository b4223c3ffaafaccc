"""English strings of explain-by-module, ``diagnose`` and the training monitor (merged into
``en.STRINGS``), and what each kind of module's backward computes (``MODULE_NOTES``)."""

from __future__ import annotations

STRINGS: dict[str, str] = {
    # -- explain by module -----------------------------------------------------------------------
    "mod_title": "The backward pass of {out}, module by module: {n} {steps} in {k} module calls",
    "mod_intro": "Modules, in the order the forward pass called them: {labels}. Each part below "
                 "says what the module's backward computes, with its numbers; "
                 "explain(...).text(detail=\"ops\") narrates every node.",
    "mod_head": "Module {i} of {n}: {label}  —  backward steps {steps}",
    "mod_what": "what its backward computes: {note}",
    "mod_brief": "shape {shape}, norm {norm}",
    "mod_val": " ({val})",
    "mod_blocked": "{k} of {n} elements ({pct})",
    "mod_dead": "; {dead} of its {units} units were zero for the whole batch (dead)",
    "mod_seed": "it is where the pass starts: ∂{L}/∂{out} = 1",
    "mod_in": "gradient arriving at its output {out}: ∂{L}/∂{out} = {val}",
    "mod_param": "{name} {shape} (norm {norm}): ∂{L}/∂{name} has norm {gnorm}; histogram "
                 "{lo} {hist} {hi}",
    "mod_param_none": "{name} {shape} (norm {norm}): no gradient reaches it in this pass",
    "mod_sends": "→ sends ∂{L}/∂{inp} = {val} to {target}",
    "mod_result": "{name}.grad: {val}",
    "mod_hint": "(The graph was made by nn.Module layers: built inside explaining(), it is also "
                "narrated module by module.)",
    "mod_expand": "On the HTML page (save_html) each module is a box: click it to open it down "
                  "to its nodes.",
    "relu_blocked_all": "this ReLU blocked every gradient: all of {inp} was ≤ 0, so nothing "
                        "flows back through {out} (for a whole layer this is a dead ReLU; see "
                        "leafgrad.autograd.diagnose).",
    # -- the page --------------------------------------------------------------------------------
    "viz_expand_all": "Open all",
    "viz_collapse_all": "Close all",
    "viz_group_hint": "click a module to open it",
    "viz_params": "parameters",
    "viz_diag": "Diagnosis",
    "viz_blocked": "blocked every gradient (all inputs ≤ 0)",
    "viz_param": "{name} {shape} · norm {norm} · grad norm {gnorm}",
    "viz_param_none": "{name} {shape} · norm {norm} · no grad",
    "viz_group_sub": "{k} nodes · click to open",
    "viz_close": "close",
    # -- diagnose() ------------------------------------------------------------------------------
    "diag_title": "Gradient flow of {model}: {n} {layers}, {k} {flags}",
    "diag_layer_one": "layer",
    "diag_layer_many": "layers",
    "diag_flag_one": "flag",
    "diag_flag_many": "flags",
    "diag_healthy": "Nothing looks wrong: gradients reach every parameter, stay finite, and "
                    "neither vanish nor explode across the layers.",
    "diag_table_head": "layer                          grad norm   weight norm  grad/weight  "
                       "update/weight",
    "diag_cols": "layer|grad norm|weight norm|grad/weight|update/weight",
    "diag_from_grad": "(the gradients already in .grad: the graph of the loss was freed, so "
                      "activation checks — dead ReLUs, saturation, NaN sources — need diagnose() "
                      "before backward(), or leafgrad.utils.monitor)",
    "diag_warn": "warning: ",
    "diag_info": "note: ",
    "diag_try": "try: {fix}",
    # each flag: what was seen, then what to try
    "flag_vanishing": "vanishing gradients: the gradient norm falls by {factor}× from {last} "
                      "(nearest the loss) to {first} (nearest the input), so the first layers "
                      "barely learn.",
    "fix_vanishing": "use ReLU-family activations instead of sigmoid/tanh in hidden layers, "
                     "He/Kaiming initialisation, normalisation layers (BatchNorm/LayerNorm) or "
                     "residual connections.",
    "flag_exploding": "exploding gradients: the gradient norm grows by {factor}× from {last} "
                      "(nearest the loss) to {first} (nearest the input).",
    "flag_exploding_abs": "exploding gradients: the gradient of {layer} is {ratio}× the size "
                          "of its weights (gradient norm {norm}), so a step at an ordinary "
                          "learning rate throws the weights far from where they were.",
    "fix_exploding": "lower the learning rate, clip gradients "
                     "(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)), use a smaller "
                     "initialisation or add normalisation layers.",
    "flag_dead_relu": "dead ReLUs in {layer}: {dead} of its {units} units output zero for the "
                      "whole batch, so no gradient passes them back.",
    "fix_dead_relu": "lower the learning rate, initialise biases slightly positive, or use "
                     "LeakyReLU/GELU; check the inputs are normalised.",
    "flag_saturated": "saturated {kind} in {layer}: {pct} of its outputs sit in the flat tails "
                      "(slope < 0.01), so the gradient through them is nearly zero.",
    "fix_saturated": "normalise the inputs, use smaller initial weights, put a normalisation "
                     "layer before it, or use ReLU in hidden layers.",
    "flag_no_grad": "{name} received no gradient. {why}",
    "fix_no_grad": "if it should learn, use it in the forward pass that produces the loss "
                   "without detach()/no_grad(); if it is meant to be frozen, set "
                   "requires_grad_(False) so the optimizer skips it.",
    "flag_nan_forward": "NaN/inf appears first in the forward pass at {node}{where}: its inputs "
                        "were finite, its output is not.",
    "flag_nan_backward": "NaN/inf appears first in the backward pass at {node}{where}: the "
                         "gradient arriving was finite, the one it sends on is not.",
    "flag_nan_grad": "{name}.grad contains NaN or inf.",
    "fix_nan": "look at that operation: log or sqrt of zero or a negative number, division by "
               "zero, exp of a large number; add a small eps, clamp the input, or use the "
               "stable fused form (log_softmax, BCEWithLogitsLoss); lower the learning rate.",
    "flag_lr_high": "the learning rate looks too high: one step changes the weights by "
                    "{ratio} of their size (median over layers; about 0.001 is the usual "
                    "healthy value).",
    "fix_lr_high": "divide the learning rate by about {factor}.",
    "flag_lr_low": "the learning rate looks too low: one step changes the weights by only "
                   "{ratio} of their size (median over layers; about 0.001 is the usual "
                   "healthy value).",
    "fix_lr_low": "multiply the learning rate by about {factor}.",
    "diag_after": "the {kind} after {layer}",
    "diag_where": " ({where})",
    # -- the training monitor ----------------------------------------------------------------------
    "mon_title": "leafgrad training monitor: {steps} steps",
    "mon_summary": "monitor: {steps} steps, loss {first} → {last} (best {best} at step {at}); "
                   "{flags}",
    "mon_no_flags": "no flags",
    "mon_flags": "{k} {flags}: {names}",
    "mon_wrote": "monitor: report written to {path}",
    "mon_loss": "Loss",
    "mon_grad_flow": "Gradient norm per layer, over steps (log scale)",
    "mon_update_ratio": "Update / weight ratio per layer (log scale; the band is 1e-4 … 1e-2)",
    "mon_last_grads": "Gradient norm per layer at the last step (input side first)",
    "mon_step": "step",
    "mon_no_loss": "No loss was recorded: call m.log(loss), or call loss.backward() inside the "
                   "block.",
    "mon_no_steps": "No optimizer step and no backward pass ran inside the block.",
}

# What each kind of module's backward computes, keyed by class name (base classes are tried
# in order, then "_default"). Placeholders: {L} the output's name; [numbers] after each
# gradient: {gin} (sent to the input), {gout} (arriving), {g_weight}, {g_bias} (parameters);
# {blocked}, {dead} (ReLU), {sat} (sigmoid/tanh), {ratio} (‖∂L/∂input‖ / ‖∂L/∂out‖),
# {value} (a loss's value). A missing number is left out.
MODULE_NOTES: dict[str, str] = {
    "Linear": "out = input·Wᵀ + b, so ∂{L}/∂W = (∂{L}/∂out)ᵀ·input{g_weight}, ∂{L}/∂b = "
              "∂{L}/∂out summed over the batch{g_bias}, and ∂{L}/∂input = ∂{L}/∂out·W{gin}.",
    "Bilinear": "out = x1ᵀ·W·x2 + b, so ∂{L}/∂x1 = W·x2 weighted by ∂{L}/∂out, ∂{L}/∂x2 = "
                "x1ᵀ·W weighted likewise, ∂{L}/∂W = the outer products x1·x2ᵀ weighted by "
                "∂{L}/∂out{g_weight}, ∂{L}/∂b = ∂{L}/∂out summed over the batch{g_bias}.",
    "_ConvNd": "each output is the kernel's dot product with one patch of the input, so "
               "∂{L}/∂weight = every patch times the gradient at its output, summed over the "
               "batch and all positions{g_weight}; ∂{L}/∂bias = ∂{L}/∂out summed over batch "
               "and positions{g_bias}; ∂{L}/∂input = ∂{L}/∂out spread back through the same "
               "kernel (a transposed convolution){gin}.",
    "_ConvTransposeNd": "the transpose of a convolution, so ∂{L}/∂input is an ordinary "
                        "convolution of ∂{L}/∂out with the kernel{gin}, and ∂{L}/∂weight pairs "
                        "each input value with the output patch it was spread over{g_weight}.",
    "_BatchNorm": "each channel is normalised with the batch's mean and variance (x̂), then "
                  "scaled by γ (weight) and shifted by β (bias). ∂{L}/∂γ = Σ ∂{L}/∂out·x̂"
                  "{g_weight}; ∂{L}/∂β = Σ ∂{L}/∂out{g_bias}; ∂{L}/∂input = γ/σ·(g − mean(g) − "
                  "x̂·mean(g·x̂)) per channel, because every input also moved the batch's mean "
                  "and variance{gin} (in eval mode the running statistics are constants and it "
                  "is just γ/σ·g).",
    "_InstanceNorm": "each sample's channel is normalised with its own mean and variance, so "
                     "∂{L}/∂input = 1/σ·(g − mean(g) − x̂·mean(g·x̂)) over each channel of each "
                     "sample{gin}; γ and β (if affine) get Σ g·x̂ and Σ g{g_weight}{g_bias}.",
    "LayerNorm": "each sample is normalised over its last dims (x̂), then scaled by γ (weight) "
                 "and shifted by β (bias). ∂{L}/∂γ = Σ over the batch of ∂{L}/∂out·x̂"
                 "{g_weight}; ∂{L}/∂β = Σ ∂{L}/∂out{g_bias}; ∂{L}/∂input = γ/σ·(g − mean(g) − "
                 "x̂·mean(g·x̂)) within each sample{gin}.",
    "GroupNorm": "channels are normalised in groups per sample, so ∂{L}/∂input = γ/σ·(g − "
                 "mean(g) − x̂·mean(g·x̂)) within each group{gin}; ∂{L}/∂γ = Σ g·x̂{g_weight}, "
                 "∂{L}/∂β = Σ g{g_bias}.",
    "RMSNorm": "each sample is divided by its root mean square and scaled by γ, so "
               "∂{L}/∂input = γ/rms·(g − x̂·mean(g·x̂)){gin} and ∂{L}/∂γ = Σ g·x̂{g_weight}.",
    "Embedding": "the forward looked up rows of the weight table, so ∂{L}/∂weight is zero "
                 "except in the rows that were looked up, where the gradients of every "
                 "occurrence are added{g_weight}; the indices get no gradient.",
    "EmbeddingBag": "the forward summed or averaged looked-up rows, so each looked-up row of "
                    "∂{L}/∂weight gets its bag's gradient (divided by the bag size for "
                    "mean){g_weight}.",
    "_DropoutNd": "the forward zeroed a random fraction p of the elements and scaled the rest "
                  "by 1/(1 − p); backward applies the same mask and scale, so dropped elements "
                  "pass no gradient{gin}.",
    "ReLU": "out = max(input, 0), so ∂{L}/∂input = ∂{L}/∂out where the input was positive and "
            "0 elsewhere: it blocked {blocked}{dead}{gin}.",
    "ReLU6": "out = min(max(input, 0), 6), so the gradient passes only where 0 < input < 6"
             "{gin}.",
    "LeakyReLU": "out = input where positive, negative_slope·input elsewhere, so ∂{L}/∂input "
                 "= ∂{L}/∂out there, times negative_slope elsewhere: no unit is ever fully "
                 "blocked{gin}.",
    "PReLU": "like LeakyReLU with a learned slope a: ∂{L}/∂input = g·(1 or a), and ∂{L}/∂a "
             "= Σ g·input over the negative inputs{g_weight}.",
    "ELU": "out = input where positive, α(eˣ − 1) elsewhere, so ∂{L}/∂input = g where positive "
           "and g·(out + α) elsewhere{gin}.",
    "GELU": "out = input·Φ(input), a smooth ReLU, so ∂{L}/∂input = g·(Φ(x) + x·φ(x)){gin}.",
    "SiLU": "out = x·σ(x), so ∂{L}/∂input = g·σ(x)·(1 + x·(1 − σ(x))){gin}.",
    "Softplus": "out = log(1 + eˣ), a smooth ReLU whose slope is σ(x), so ∂{L}/∂input = "
                "g·σ(x){gin}.",
    "Sigmoid": "out = σ(input), whose slope σ·(1 − σ) is at most 0.25, so ∂{L}/∂input = "
               "∂{L}/∂out·σ·(1 − σ){gin} shrinks the gradient ({ratio}× here); {sat} of the "
               "outputs sit in the flat tails.",
    "Tanh": "out = tanh(input), whose slope 1 − tanh² is at most 1, so ∂{L}/∂input = "
            "∂{L}/∂out·(1 − out²){gin} ({ratio}× the incoming norm here); {sat} of the "
            "outputs sit in the flat tails.",
    "Hardtanh": "out = input clamped to [min_val, max_val], so the gradient passes only where "
                "the input was inside{gin}.",
    "Softmax": "each row becomes probabilities p, so ∂{L}/∂input = p·(g − Σ g·p) per row{gin}.",
    "LogSoftmax": "each row becomes log-probabilities, so ∂{L}/∂input = g − softmax·Σ g per "
                  "row{gin}.",
    "Flatten": "a reshape moves no numbers, so the gradient is reshaped back{gin}.",
    "Unflatten": "a reshape moves no numbers, so the gradient is reshaped back{gin}.",
    "Identity": "the gradient passes unchanged{gin}.",
    "_MaxPoolNd": "each output took the largest value in its window, so its gradient goes to "
                  "that one position and the rest of the window gets 0{gin}.",
    "_AvgPoolNd": "each output averaged its window, so its gradient is spread evenly over the "
                  "window's elements{gin}.",
    "_AdaptiveAvgPoolNd": "each output averaged its region, so its gradient is spread evenly "
                          "over the region{gin}.",
    "_AdaptiveMaxPoolNd": "each output took its region's largest value, so its gradient goes "
                          "to that position only{gin}.",
    "RNNBase": "the recurrence was unrolled over time, so backward runs through every time "
               "step from the last to the first (backpropagation through time), adding each "
               "step's contribution to the shared weights{g_weight_ih_l0}; a gradient passing "
               "many steps can shrink or grow geometrically{gin}.",
    "RNNCellBase": "one time step of a recurrent cell: ∂{L}/∂input and ∂{L}/∂hidden go back "
                   "through its gates, and the weights get this step's share{gin}.",
    "Sequential": "a container: its backward is its children's backward, last child first"
                  "{gin}.",
    "MSELoss": "loss = mean((input − target)²) = {value}, so the pass starts with ∂{L}/∂{L} = "
               "1 and ∂{L}/∂input = 2·(input − target)/N{gin}.",
    "L1Loss": "loss = mean(|input − target|) = {value}, so ∂{L}/∂input = sign(input − "
              "target)/N{gin}: the same size for every element, however far off.",
    "SmoothL1Loss": "squared near zero, absolute further out, so ∂{L}/∂input = (input − "
                    "target)/β/N near zero and ±1/N beyond{gin}.",
    "HuberLoss": "squared near zero, absolute further out, so ∂{L}/∂input = (input − "
                 "target)/N near zero and ±δ/N beyond{gin}.",
    "CrossEntropyLoss": "loss = −mean(log softmax(input)[target]) = {value}, so the pass "
                        "starts with 1 and ∂{L}/∂input = (softmax(input) − one_hot(target))/N: "
                        "each row raises its target class and lowers every class by its "
                        "probability{gin}.",
    "NLLLoss": "loss = −mean(input[target]) = {value}, so ∂{L}/∂input = −1/N at each row's "
               "target and 0 elsewhere{gin}.",
    "BCELoss": "loss = −mean(y·log p + (1 − y)·log(1 − p)) = {value}, so ∂{L}/∂p = (p − y)/"
               "(p·(1 − p))/N, which grows huge as p nears 0 or 1{gin}.",
    "BCEWithLogitsLoss": "loss = BCE(σ(x), y) = {value}, fused for stability, so ∂{L}/∂x = "
                         "(σ(x) − y)/N{gin}.",
    "KLDivLoss": "loss = Σ target·(log target − input) = {value}, so ∂{L}/∂input = "
                 "−target (divided as the reduction says){gin}.",
    "_Loss": "a loss = {value}: the pass starts here with ∂{L}/∂{L} = 1 and sends the "
             "gradient of the loss to its prediction{gin}.",
    "_default": "its backward runs, in reverse, the nodes its forward recorded (open the group "
                "to see each one){gin}.",
}
