"""Today's known differences, so that CI passes now and flips when a fix lands.

``KNOWN``: fuzz seeds of the CI range (tests/test_fuzz.py) whose program does not agree with
torch today, with the category and op of the first difference. ``SAFETY_KNOWN``: cells of the
autograd-safety matrix (tests/test_autograd_safety.py). Both tests mark these
``xfail(strict=True)``: a fix makes them pass, the strict xfail then fails, and the entry must
be deleted. ``SLOW_BASELINE``: per-category counts of the slow run (seeds SLOW_START...), which
may only go down.

Regenerate (after a fix, or after a change to the generator, which renumbers the programs):
    python -m tests.fuzz --programs 2500 --seed 0 --examples 0 --write-known tests/fuzz/known.py
    python -m tests.fuzz --safety --write-known tests/fuzz/known.py
    python -m tests.fuzz --programs 5000 --seed 1000000 --examples 0 --baseline \
        --write-known tests/fuzz/known.py
(about 1, 0.2 and 2 minutes of CPU). Only lower SLOW_BASELINE when a fix lowers the counts.
"""

CI_PROGRAMS = 2500
SLOW_START, SLOW_PROGRAMS = 1_000_000, 5_000

KNOWN: dict[int, str] = {
    153: 'missing-error op:kron',
    161: 'missing-error inplace:index_fill_',
    313: 'exception-type inplace:index_add_',
    381: 'missing-error op:cdist',
    507: 'exception-type op:glu',
    576: 'exception-type op:addmv',
    578: 'spurious-error out:var_unbiased',
    586: 'missing-error grad',
    710: 'exception-type inplace:scatter_',
    741: 'autograd-meta setitem:ellipsis',
    899: 'missing-error backward',
    940: 'exception-type op:addbmm',
    1121: 'missing-error grad',
    1140: 'exception-type dim:prod',
    1176: 'missing-error op:meshgrid_xy',
    1252: 'exception-type dim:split',
    1440: 'exception-type inplace:index_fill_',
    1466: 'exception-type op:addbmm',
    1476: 'autograd-meta grad',
    1563: 'exception-type inplace:index_fill_',
    1597: 'exception-type backward',
    1627: 'autograd-meta dim:trapezoid',
    1709: 'exception-type inplace:index_add_',
    1773: 'missing-error inplace:detach_',
    1896: 'spurious-error out:heaviside',
    2286: 'grad_fn view:chunk',
    2329: 'grad_fn view:chunk',
}

SAFETY_KNOWN: dict[str, str] = {
    'einsum_sum_out/input0': 'spurious-error',
    'einsum_sum_out/input1': 'spurious-error',
    'tensordot/input0': 'spurious-error',
    'tensordot/input1': 'spurious-error',
    'kron/input0': 'spurious-error',
    'kron/input1': 'spurious-error',
    'rnn_layer_lstm/input1': 'spurious-error',
    'rnn_layer_lstm/input2': 'spurious-error',
    'rnn_layer_lstm/input5': 'spurious-error',
    'rnn_layer_lstm/input6': 'spurious-error',
    'rnn_layer_lstm_packed_reverse/input1': 'spurious-error',
    'rnn_layer_lstm_packed_reverse/input2': 'spurious-error',
    'rnn_layer_lstm_packed_reverse/input5': 'spurious-error',
    'rnn_layer_lstm_packed_reverse/input6': 'spurious-error',
    'rnn_layer_gru/input1': 'spurious-error',
    'rnn_layer_gru/input4': 'spurious-error',
    'rnn_layer_gru/input5': 'spurious-error',
    'rnn_layer_gru_packed_nobias/input1': 'spurious-error',
    'rnn_layer_tanh_reverse/input1': 'spurious-error',
    'rnn_layer_tanh_reverse/input4': 'spurious-error',
    'rnn_layer_tanh_reverse/input5': 'spurious-error',
    'rnn_layer_relu_packed/input1': 'spurious-error',
    'rnn_layer_relu_packed/input4': 'spurious-error',
    'rnn_layer_relu_packed/input5': 'spurious-error',
    'lstm_cell/input5': 'spurious-error',
    'lstm_cell/input6': 'spurious-error',
    'gru_cell/input4': 'spurious-error',
    'gru_cell/input5': 'spurious-error',
    'pack_padded_sequence/twice': 'missing-error',
    'pack_padded_sequence_batch_first/twice': 'missing-error',
    'scaled_dot_product_attention/output': 'missing-error',
    'scaled_dot_product_attention_causal_bool/output': 'missing-error',
    'scaled_dot_product_attention_float_mask/input0': 'spurious-error',
    'scaled_dot_product_attention_float_mask/input1': 'spurious-error',
    'scaled_dot_product_attention_float_mask/input3': 'spurious-error',
    'scaled_dot_product_attention_gqa/output': 'missing-error',
    'scaled_dot_product_attention_3d_dropout/input0': 'spurious-error',
    'scaled_dot_product_attention_3d_dropout/input1': 'spurious-error',
    'scaled_dot_product_attention_2d/input0': 'spurious-error',
    'scaled_dot_product_attention_2d/input1': 'spurious-error',
}

SLOW_BASELINE: dict[str, int] = {
    'exception-type': 49,
    'spurious-error': 14,
    'missing-error': 24,
    'autograd-meta': 4,
    'grad_fn': 8,
    'silent-grad': 1,
}
