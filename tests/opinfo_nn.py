"""Op-table rows for ``nn.functional`` (leafgrad/ops/{linear,activation,softmax,loss,loss_extra,
normalization,dropout,embedding,distance}.py): every functional and loss, with its options.

Fixed integer inputs (class indices, lengths) are built inside the callables, so the float
inputs are the ones the table draws, differentiates and gradchecks.
"""

from __future__ import annotations

from opinfo import UNARY, OpInfo

U = UNARY
MAT = ((4, 5), (1, 5))
_NORM = "leafgrad's norm records LinalgVectorNormBackward0 (torch's at::norm: NormBackward1)"


def F(m):
    """``nn.functional`` of the library (leafgrad or torch)."""
    return m.nn.functional


def _t(m):
    """Class-index targets for (4, 5) logits (one ignored where ignore_index is used)."""
    return m.tensor([0, 4, 2, 1])


def _t_img(m):
    return m.tensor([[[0, 2], [1, 1], [2, 0]], [[1, 0], [0, 2], [2, 2]]])


def _gumbel(m, a, hard: bool):
    """(hard=True is straight-through, not the true gradient: test_nn_functional.py)"""
    m.manual_seed(0)
    return F(m).gumbel_softmax(a, tau=0.7, hard=hard)


def _ctc(m, a, red="mean", zero_inf=False):
    lp = F(m).log_softmax(a.reshape(6, 2, 4), 2)
    tg = m.tensor([[1, 2, 2], [3, 1, 0]])
    return F(m).ctc_loss(lp, tg, m.tensor([6, 5]), m.tensor([3, 2]), reduction=red,
                         zero_infinity=zero_inf)


OPS: list[OpInfo] = [
    # -- linear ----------------------------------------------------------------------------------
    OpInfo("linear", lambda m, x, w, b: F(m).linear(x, w, b),
           (((4, 3), (2, 3), (2,)), ((3,), (2, 3), (2,)), ((2, 4, 3), (2, 3), (2,)),
            ((0, 3), (2, 3), (2,))), node_differs="one fused node; torch's addmm has a t() node"
           " below it (and a view above for other ranks)"),
    OpInfo("linear_nobias", lambda m, x, w: F(m).linear(x, w), (((4, 3), (2, 3)),),
           node_differs="one fused MmBackward0; torch's mm has a t() node below it"),
    OpInfo("bilinear", lambda m, a, b, w, c: F(m).bilinear(a, b, w, c),
           (((3, 2), (3, 4), (5, 2, 4), (5,)),), node_differs="einsum composite; torch "
           "records one BilinearBackward node"),
    # -- activations -----------------------------------------------------------------------------
    OpInfo("relu_f", lambda m, a: F(m).relu(a), U, funcs=("relu", "relu_")),
    OpInfo("relu6", lambda m, a: F(m).relu6(a * 4), U, domain=(-2.3, 2.3)),
    OpInfo("hardtanh", lambda m, a: F(m).hardtanh(a, -0.5, 0.7), U, funcs=("hardtanh_",)),
    OpInfo("leaky_relu", lambda m, a: F(m).leaky_relu(a, 0.2), U, funcs=("leaky_relu_",)),
    OpInfo("elu", lambda m, a: F(m).elu(a, 0.7), U, funcs=("elu_",)),
    OpInfo("selu", lambda m, a: F(m).selu(a), U, funcs=("selu_",)),
    OpInfo("celu", lambda m, a: F(m).celu(a, 1.5), U, funcs=("celu_",)),
    OpInfo("gelu", lambda m, a: F(m).gelu(a), U, domain=(-4.0, 4.0)),
    OpInfo("gelu_tanh", lambda m, a: F(m).gelu(a, approximate="tanh"), U, domain=(-4.0, 4.0)),
    OpInfo("silu", lambda m, a: F(m).silu(a), U),
    OpInfo("mish", lambda m, a: F(m).mish(a), U, domain=(-5.0, 5.0)),
    OpInfo("softplus", lambda m, a: F(m).softplus(a, 2.0, 3.0), U),
    OpInfo("softsign", lambda m, a: F(m).softsign(a), U),
    OpInfo("hardsigmoid", lambda m, a: F(m).hardsigmoid(a * 3), U, gradgrad=False),
    OpInfo("hardswish", lambda m, a: F(m).hardswish(a * 3), U),
    OpInfo("hardshrink", lambda m, a: F(m).hardshrink(a, 0.3), U),
    OpInfo("softshrink", lambda m, a: F(m).softshrink(a, 0.3), U),
    OpInfo("tanhshrink", lambda m, a: F(m).tanhshrink(a), U),
    OpInfo("threshold", lambda m, a: F(m).threshold(a, 0.1, -3.0), U, funcs=("threshold_",)),
    OpInfo("prelu", lambda m, a, w: F(m).prelu(a, w), (((2, 3, 4), (3,)), ((4, 3), (1,)),
                                                       ((3,), (1,))),
           node_differs="one node; torch views the weight first (ViewBackward0 below)"),
    OpInfo("rrelu", lambda m, a: F(m).rrelu(a, 0.1, 0.3, training=False), U,
           funcs=("rrelu_",)),
    OpInfo("glu", lambda m, a: F(m).glu(a, -1), ((2, 4), (6,), (3, 2, 2))),
    OpInfo("glu_dim0", lambda m, a: F(m).glu(a, 0), ((4, 3),)),
    OpInfo("logsigmoid", lambda m, a: F(m).logsigmoid(a), U, domain=(-30.0, 30.0)),
    OpInfo("sigmoid_f", lambda m, a: F(m).sigmoid(a), U, funcs=("sigmoid",)),
    OpInfo("tanh_f", lambda m, a: F(m).tanh(a), U, funcs=("tanh",)),
    OpInfo("softmax", lambda m, a: F(m).softmax(a, -1), ((3,), (2, 3), (2, 3, 4), (), (0, 3))),
    OpInfo("softmax_dim0", lambda m, a: F(m).softmax(a, 0), ((4, 3),)),
    OpInfo("softmax_dtype", lambda m, a: F(m).softmax(a, 1, dtype=m.float64), ((2, 3),),
           dtypes=("float32",)),
    OpInfo("log_softmax", lambda m, a: F(m).log_softmax(a, -1), ((3,), (2, 3), (2, 3, 4), ())),
    OpInfo("log_softmax_big", lambda m, a: F(m).log_softmax(a * 1e4, 1), ((2, 3),),
           domain=(-1.0, 1.0)),
    OpInfo("softmin", lambda m, a: F(m).softmin(a, 1), ((2, 3),)),
    # the noise is drawn by exponential_, bit-compatible with torch's; reseeded per call
    OpInfo("gumbel_softmax", lambda m, a: _gumbel(m, a, False), ((2, 3), (4,))),
    # -- dropout (eval: identity; training: masks compared in test_nn_functional.py) -----------
    OpInfo("dropout", lambda m, a: F(m).dropout(a, 0.3, training=False) * 1, ((2, 3),),
           funcs=("dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                  "feature_alpha_dropout")),
    # -- embedding -------------------------------------------------------------------------------
    OpInfo("embedding", lambda m, w: F(m).embedding(m.tensor([[0, 2, 2], [3, 0, 1]]), w),
           ((4, 3),), funcs=("one_hot",)),
    # padding_idx and scale_grad_by_freq change the gradient on purpose (gradcheck would
    # flag them): compared with torch in test_nn_functional.py
    OpInfo("embedding_bag_mean", lambda m, w: F(m).embedding_bag(
        m.tensor([0, 2, 2, 1, 3]), w, m.tensor([0, 2, 2])), ((4, 3),), gradgrad=False),
    OpInfo("embedding_bag_sum_psw", lambda m, w, p: F(m).embedding_bag(
        m.tensor([[0, 2], [1, 3]]), w, mode="sum", per_sample_weights=p),
        (((4, 3), (2, 2)),), gradgrad=False),
    OpInfo("embedding_bag_max", lambda m, w: F(m).embedding_bag(
        m.tensor([0, 2, 1, 3]), w, m.tensor([0, 1]), mode="max"), ((4, 3),), gradgrad=False),
    # -- normalisation ---------------------------------------------------------------------------
    OpInfo("batch_norm", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
           (((4, 3), (3,), (3,)), ((2, 3, 5), (3,), (3,)), ((2, 2, 2, 3), (2,), (2,)))),
    OpInfo("batch_norm_noaffine", lambda m, x: F(m).batch_norm(x, None, None, training=True),
           ((4, 3),)),
    OpInfo("batch_norm_eval", lambda m, x, w, b: F(m).batch_norm(
        x, m.tensor([0.1, -0.2, 0.3], dtype=x.dtype), m.tensor([0.5, 1.0, 2.0], dtype=x.dtype),
        w, b), (((4, 3), (3,), (3,)),)),
    OpInfo("layer_norm", lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b),
           (((4, 3), (3,), (3,)), ((2, 2, 3), (3,), (3,)))),
    OpInfo("layer_norm_2d", lambda m, x, w, b: F(m).layer_norm(x, (2, 3), w, b),
           (((4, 2, 3), (2, 3), (2, 3)),)),
    OpInfo("layer_norm_noaffine", lambda m, x: F(m).layer_norm(x, (5,)), ((3, 5),)),
    OpInfo("group_norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b),
           (((2, 4, 3), (4,), (4,)), ((3, 4), (4,), (4,))),
           node_differs="one node; torch views the input first (ViewBackward0 below)"),
    OpInfo("instance_norm", lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b),
           (((2, 3, 4), (3,), (3,)),), node_differs="batch norm in between views; torch's "
           "repeat of the weight is folded"),
    OpInfo("rms_norm", lambda m, x, w: F(m).rms_norm(x, (3,), w), (((4, 3), (3,)),)),
    OpInfo("rms_norm_eps", lambda m, x: F(m).rms_norm(x, (2, 3), eps=1e-3), ((4, 2, 3),)),
    OpInfo("local_response_norm", lambda m, x: F(m).local_response_norm(x, 3, 0.5, 0.75, 2.0),
           ((2, 4, 3), (1, 3, 2, 2)), node_differs="channel window summed from slices; torch "
           "pads and average-pools"),
    OpInfo("normalize", lambda m, x: F(m).normalize(x, 2.0, 1), ((3, 4), (2, 3, 2))),
    OpInfo("normalize_p1", lambda m, x: F(m).normalize(x, 1.0, 0), ((3, 4),)),
    # -- distances -------------------------------------------------------------------------------
    OpInfo("cosine_similarity", lambda m, a, b: F(m).cosine_similarity(a, b),
           (((3, 4), (3, 4)), ((2, 3, 2), (1, 3, 2)))),
    OpInfo("pairwise_distance", lambda m, a, b: F(m).pairwise_distance(a, b),
           (((3, 4), (3, 4)), ((4,), (3, 4))), node_differs=_NORM),
    OpInfo("pairwise_distance_p1", lambda m, a, b: F(m).pairwise_distance(a, b, 1.0, 1e-6,
                                                                          True),
           (((3, 4), (3, 4)),), node_differs=_NORM),
    OpInfo("cdist", lambda m, a, b: m.cdist(a, b), (((3, 4), (2, 4)), ((2, 3, 4), (2, 5, 4))),
           gradgrad=False),
    OpInfo("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1.0), (((3, 4), (2, 4)),),
           gradgrad=False),
    OpInfo("cdist_p3", lambda m, a, b: m.cdist(a, b, p=3.0), (((3, 4), (2, 4)),),
           gradgrad=False),
    OpInfo("pdist", lambda m, a: F(m).pdist(a), ((4, 3),), gradgrad=False),
    OpInfo("pdist_p1", lambda m, a: F(m).pdist(a, 1.5), ((4, 3),), gradgrad=False),
    # -- losses ----------------------------------------------------------------------------------
    OpInfo("mse_loss", lambda m, a, b: F(m).mse_loss(a, b), (((4, 3), (4, 3)), ((), ()))),
    OpInfo("mse_loss_sum", lambda m, a, b: F(m).mse_loss(a, b, reduction="sum"),
           (((4, 3), (4, 3)),)),
    OpInfo("mse_loss_none", lambda m, a, b: F(m).mse_loss(a, b, reduction="none"),
           (((4, 3), (4, 3)),)),
    OpInfo("mse_loss_weight", lambda m, a, b, w: F(m).mse_loss(a, b, weight=w),
           (((4, 3), (4, 3), (4, 3)),), node_differs="composite, as torch's python"),
    OpInfo("l1_loss", lambda m, a, b: F(m).l1_loss(a, b), (((4, 3), (4, 3)),)),
    OpInfo("l1_loss_none", lambda m, a, b: F(m).l1_loss(a, b, reduction="none"),
           (((4, 3), (4, 3)),)),
    OpInfo("smooth_l1_loss", lambda m, a, b: F(m).smooth_l1_loss(a, b, beta=0.5),
           (((4, 3), (4, 3)),)),
    OpInfo("smooth_l1_loss_none", lambda m, a, b: F(m).smooth_l1_loss(a, b, reduction="none"),
           (((4, 3), (4, 3)),)),
    OpInfo("huber_loss", lambda m, a, b: F(m).huber_loss(a, b, delta=0.6),
           (((4, 3), (4, 3)),)),
    OpInfo("huber_loss_sum", lambda m, a, b: F(m).huber_loss(a, b, "sum", 2.0),
           (((4, 3), (4, 3)),)),
    OpInfo("cross_entropy", lambda m, a: F(m).cross_entropy(a, _t(m)), ((4, 5),)),
    OpInfo("cross_entropy_weight_ignore", lambda m, a: F(m).cross_entropy(
        a, _t(m), weight=m.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=a.dtype), ignore_index=4),
        ((4, 5),)),
    OpInfo("cross_entropy_none", lambda m, a: F(m).cross_entropy(a, _t(m), reduction="none"),
           ((4, 5),)),
    OpInfo("cross_entropy_sum", lambda m, a: F(m).cross_entropy(a, _t(m), reduction="sum"),
           ((4, 5),)),
    OpInfo("cross_entropy_smoothing", lambda m, a: F(m).cross_entropy(
        a, _t(m), label_smoothing=0.2), ((4, 5),)),
    OpInfo("cross_entropy_smoothing_weight", lambda m, a: F(m).cross_entropy(
        a, _t(m), weight=m.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=a.dtype), ignore_index=0,
        label_smoothing=0.3), ((4, 5),)),
    OpInfo("cross_entropy_probs", lambda m, a, p: F(m).cross_entropy(a, p),
           (((4, 5), (4, 5)),), node_differs="leafgrad names division by a Python number "
           "DivBackward0 (torch: DivBackward1)"),
    OpInfo("cross_entropy_probs_smooth_none", lambda m, a, p: F(m).cross_entropy(
        a, p, weight=m.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=a.dtype), reduction="none",
        label_smoothing=0.1), (((4, 5), (4, 5)),)),
    OpInfo("cross_entropy_1d", lambda m, a: F(m).cross_entropy(a, m.tensor(3)), ((5,),)),
    OpInfo("cross_entropy_spatial", lambda m, a: F(m).cross_entropy(a, _t_img(m)),
           ((2, 3, 3, 2),)),
    OpInfo("cross_entropy_spatial_none", lambda m, a: F(m).cross_entropy(
        a, _t_img(m)[:, :, 0], reduction="none"), ((2, 3, 3),)),
    OpInfo("nll_loss", lambda m, a: F(m).nll_loss(a, _t(m)), ((4, 5),)),
    OpInfo("nll_loss_weight_none", lambda m, a: F(m).nll_loss(
        a, _t(m), weight=m.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=a.dtype), reduction="none"),
        ((4, 5),)),
    OpInfo("binary_cross_entropy", lambda m, a, b: F(m).binary_cross_entropy(a, b),
           (((4, 3), (4, 3)), ((), ())), domain=(0.05, 0.95)),
    OpInfo("binary_cross_entropy_weight", lambda m, a, b: F(m).binary_cross_entropy(
        a, b, weight=m.tensor([0.5, 2.0, 1.0], dtype=a.dtype), reduction="sum"),
        (((4, 3), (4, 3)),), domain=(0.05, 0.95)),
    OpInfo("bce_with_logits", lambda m, a, b: F(m).binary_cross_entropy_with_logits(a, b),
           (((4, 3), (4, 3)),), funcs=("binary_cross_entropy_with_logits",)),
    OpInfo("bce_with_logits_pos_weight", lambda m, a, b: F(m).binary_cross_entropy_with_logits(
        a, b, weight=m.tensor([0.5, 1.0, 2.0], dtype=a.dtype),
        pos_weight=m.tensor([3.0, 1.0, 0.2], dtype=a.dtype), reduction="none"),
        (((4, 3), (4, 3)),), domain=(0.0, 1.0)),
    OpInfo("bce_with_logits_big", lambda m, a, b: F(m).binary_cross_entropy_with_logits(
        a * 1e4, b), (((4, 3), (4, 3)),), domain=(-1.0, 1.0)),
    OpInfo("soft_margin_loss", lambda m, a: F(m).soft_margin_loss(
        a, m.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=a.dtype)), ((2, 3),)),
    OpInfo("kl_div", lambda m, a, b: F(m).kl_div(a, b, reduction="batchmean"),
           (((4, 3), (4, 3)),), domain=(0.1, 1.0)),
    OpInfo("kl_div_log_target", lambda m, a, b: F(m).kl_div(a, b, reduction="sum",
                                                            log_target=True),
           (((4, 3), (4, 3)),)),
    OpInfo("poisson_nll_loss", lambda m, a, b: F(m).poisson_nll_loss(a, b * 3),
           (((4, 3), (4, 3)),), domain=(0.1, 1.0)),
    OpInfo("poisson_nll_loss_full", lambda m, a, b: F(m).poisson_nll_loss(
        a, b * 3, log_input=False, full=True, reduction="sum"), (((4, 3), (4, 3)),),
        domain=(0.1, 1.0)),
    OpInfo("gaussian_nll_loss", lambda m, a, b, v: F(m).gaussian_nll_loss(a, b, v),
           (((4, 3), (4, 3), (4, 3)), ((4, 3), (4, 3), (4,)), ((4, 3), (4, 3), (4, 1))),
           domain=(0.1, 1.0)),
    OpInfo("gaussian_nll_loss_full", lambda m, a, b, v: F(m).gaussian_nll_loss(
        a, b, v, full=True, reduction="none"), (((4, 3), (4, 3), (4, 3)),), domain=(0.1, 1.0)),
    OpInfo("margin_ranking_loss", lambda m, a, b: F(m).margin_ranking_loss(
        a, b, m.tensor([1.0, -1.0, 1.0, -1.0], dtype=a.dtype), 0.1), (((4,), (4,)),)),
    OpInfo("hinge_embedding_loss", lambda m, a: F(m).hinge_embedding_loss(
        a, m.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=a.dtype), 0.5), ((2, 3),)),
    OpInfo("multilabel_soft_margin_loss", lambda m, a, b: F(m).multilabel_soft_margin_loss(
        a, b.detach().round(), weight=m.tensor([1.0, 2.0, 0.5], dtype=a.dtype)),
        (((4, 3), (4, 3)),), domain=(0.0, 1.0)),
    OpInfo("multi_margin_loss", lambda m, a: F(m).multi_margin_loss(a, _t(m)), ((4, 5),),
           gradgrad=False),
    OpInfo("multi_margin_loss_p2_weight", lambda m, a: F(m).multi_margin_loss(
        a, _t(m), p=2, margin=0.5, weight=m.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=a.dtype),
        reduction="none"), ((4, 5),), gradgrad=False),
    OpInfo("multilabel_margin_loss", lambda m, a: F(m).multilabel_margin_loss(
        a, m.tensor([[3, 0, -1, 1], [0, 1, 2, 3], [2, -1, 0, 0]])), ((3, 4),),
        gradgrad=False),
    OpInfo("cosine_embedding_loss", lambda m, a, b: F(m).cosine_embedding_loss(
        a, b, m.tensor([1.0, -1.0, 1.0], dtype=a.dtype), margin=-0.2), (((3, 4), (3, 4)),)),
    OpInfo("triplet_margin_loss", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n),
           (((3, 4), (3, 4), (3, 4)),)),
    OpInfo("triplet_margin_loss_swap", lambda m, a, p, n: F(m).triplet_margin_loss(
        a, p, n, margin=2.0, p=1.0, swap=True, reduction="none"), (((3, 4), (3, 4), (3, 4)),)),
    OpInfo("triplet_margin_with_distance_loss", lambda m, a, p, n:
           F(m).triplet_margin_with_distance_loss(a, p, n, distance_function=lambda x, y: (
               x - y).abs().sum(-1), margin=1.5), (((3, 4), (3, 4), (3, 4)),)),
    OpInfo("ctc_loss", lambda m, a: _ctc(m, a), ((6, 8),), gradgrad=False),
    OpInfo("ctc_loss_sum", lambda m, a: _ctc(m, a, "sum"), ((6, 8),), gradgrad=False),
    OpInfo("ctc_loss_none", lambda m, a: _ctc(m, a, "none", True), ((6, 8),), gradgrad=False),
]

UNTESTED_NODES = {
    "_PairLoss": "abstract base class", "_PairLossBackward": "abstract base class",
}
