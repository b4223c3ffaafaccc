"""中文叙述字符串：explain()、why_none()、计算图图示和 `leafgrad tour --lang zh`。"""

from __future__ import annotations

STRINGS: dict[str, str] = {
    # -- explain() -------------------------------------------------------------------------------
    "title": "{out} 的反向传播：共 {n} {steps}，按引擎实际执行的顺序",
    "step_one": "步",
    "step_many": "步",
    "intro_leaves": "叶子张量（由你直接创建；backward() 把它们的梯度存进 .grad）：{names}。",
    "intro_nonleaves": "非叶子张量（由运算产生，每个都记录了一个节点，即它的 grad_fn；"
                       "除非调用 .retain_grad()，否则不保留它们的 .grad）：{names}。",
    "notation": "记号：{items}（按行编号）。∂{out}/∂{name} 表示 {out} 对 {name} 的梯度，即 {name} "
                "的每个元素变化一个单位时 {out} 变化多少。",
    "notation_item": "{elems} 是 {name} 的各个元素",
    "list_sep": "；",
    "comma": "，",
    "input_item": "{label} {shape}（{kind}）",
    "scalar_form": "写成标量形式：  {out} = {expr}",
    "no_sites": "（没有记录节点的创建位置。在 `with leafgrad.autograd.explaining():` 中构建计算图，"
                "或先调用 leafgrad.autograd.sites.record_sites(True)，就能看到每个节点由你代码的"
                "哪一行创建。）",
    "step_head": "第 {i} 步（共 {n} 步）：{name}  —  {forward}",
    "site": "创建于 {where}：   {line}",
    "shapes": "输入 {inputs}  →  输出 {out} {shape}",
    "leaf_word": "叶子",
    "nonleaf_word": "非叶子",
    "const_word": "常量，不需要梯度",
    "seed_scalar": "传入的梯度：∂{out}/∂{out} = 1。对标量调用 backward() 时从 1 开始"
                   "（{out} 变化多少，{out} 自己就变化多少）。",
    "seed_given": "传入的梯度：传给 backward() 的 gradient：{val}",
    "incoming": "传入的梯度 ∂{root}/∂{out} = {val}",
    "unused_output": "{out} 没有被使用，所以没有梯度传回（视为零）。",
    "paths": "{out} 被使用了 {k} 次，autograd 把沿每条使用路径传回的梯度相加（多元链式法则）："
             "{terms} = {val}",
    "local": "这个节点做的事：{expr}",
    "local_elem": "局部导数：∂{out}ᵢ/∂{inp}ᵢ = {expr}",
    "formula": "leafgrad 中 {inp} 的梯度公式（公式里称为 {key}）：{formula}{params}",
    "formula_same": "leafgrad 中 {inp} 的梯度公式：{formula}{params}",
    "chain_elem_head": "链式法则：∂{root}/∂{inp}ᵢ = ∂{root}/∂{out}ᵢ × ∂{out}ᵢ/∂{inp}ᵢ"
                       "{general}，逐个元素计算：",
    "chain_general": " = {c} × {local} = {expr}",
    "chain_general_c": " = {c} × {local}",
    "elem_copy": "∂{root}/∂{inp}{j}（经由 {out}{k}）",
    "chain": "链式法则：∂{root}/∂{inp} = {expr} = {val}",
    "chain_value": "链式法则：∂{root}/∂{inp} = {val}",
    "broadcast": "自动步骤：{inp} 的形状是 {small}，前向计算时被广播成 {big}，所以引擎把梯度沿广播"
                 "的维度求和：{before} → {after}",
    "cast": "自动步骤：梯度被转换成 {inp} 的数据类型 {dtype}。",
    "no_grad_input": "{inp} 不需要梯度，所以不为它计算梯度。",
    "no_grad_number": "{inp} 是普通的数，即常量：不需要为它计算梯度。",
    "sends": "→ 把 ∂{root}/∂{inp} = {val} 传给{target}",
    "target_leaf": "叶子 {name} 的 AccumulateGrad 节点",
    "target_node": " {node}（产生 {name} 的节点）",
    "retained": "调用过 {name}.retain_grad()，所以 {name}.grad 会保留这个梯度：{val}",
    "hook": "这里注册了钩子（hook）；explain() 不运行钩子，如果钩子修改梯度，"
            "真实的反向传播会与这里显示的数值不同。",
    "no_grad_arrived": "没有梯度到达这个节点（所有使用者都传来 None），所以它什么也不往下传。",
    "acc_head": "第 {i} 步（共 {n} 步）：AccumulateGrad  —  叶子 {name}",
    "acc_what": "{name} 是叶子，链式法则到此为止：AccumulateGrad 把传入的梯度累加到 {name}.grad 中"
                "。",
    "acc_new": "{name}.grad 原来是 None，所以它变成 {val}",
    "acc_add": "{name}.grad 里已经有 {old}（来自之前的 backward()；调用 zero_grad() 或设 .grad = "
               "None 可以从零开始），所以新梯度被加上去：{old} + {new} = {val}",
    "result_head": "结果",
    "result_leaf": "{name}.grad = {repr}",
    "result_none": "{name}.grad：没有梯度到达它。",
    "result_general": "也就是说，对每个元素都有 ∂{out}/∂{name}ᵢ = {expr}",
    "not_applied": "explain() 没有改动任何 .grad；调用 {out}.backward() 才会存入这些值"
                   "（或者使用 explain(..., backward=True)）。",
    "applied": "backward() 已经运行：上面的 .grad 值已经存入各个叶子。",
    "stats": "形状 {shape}：均值 {mean}，标准差 {std}，最小值 {min}，最大值 {max}",
    "stats_empty": "形状 {shape}（空张量）",
    # -- why_none() ------------------------------------------------------------------------------
    "why_title": "为什么 {name}.grad 是 None？",
    "why_has_grad": "并不是：{name}.grad 已经有值（{val}）。",
    "why_integer": "{name} 的数据类型是整数类型 {dtype}。只有浮点张量才能需要梯度：整数不能发生无穷"
                   "小的变化。请先转换：{name} = {name}.float().requires_grad_()。",
    "why_non_leaf": "{name} 不是叶子：它由一个运算（{node}）产生，是中间结果，而 backward() 只为叶"
                    "子保留 .grad。在 backward() 之前调用 {name}.retain_grad() 可以保留它的梯度，"
                    "或者去看它所来自的那个叶子。",
    "why_non_leaf_rebound": "第 {line} 行把名字 {name} 绑定到了对你所创建的叶子做运算的结果上：  "
                            "{code}  —— 那个叶子藏在运算后面，而 .grad 填在的正是那个叶子上。"
                            "请一步建好叶子并给它命名（w = torch.randn(3) * 0.01，然后 "
                            "w.requires_grad_()），或者给叶子保留它自己的名字。",
    "why_detached": "{name} 被 detach() 从计算图中切了出来：它和 {src} 共享内存，但没有任何历史"
                    "记录，所以梯度流不进它。需要梯度的地方请直接使用 {src}。",
    "why_detached_src": "一个需要梯度的张量",
    "why_no_grad": "{name} 是在 no_grad()（或 inference_mode）中计算出来的：autograd 什么都没有"
                   "记录，所以 {name} 没有 grad_fn，requires_grad=False。",
    "why_no_grad_line": "第 {line} 行位于关闭梯度的代码块中：  {code}",
    "why_requires_grad_false": "{name} 不需要梯度：它是一个创建时没有指定 requires_grad=True 的叶子"
                               "，"
                               "autograd 从不跟踪它。创建时加上 requires_grad=True，或在使用前调用 "
                               "{name}.requires_grad_()。",
    "why_maybe_detached_or_no_grad": "如果你以为它需要梯度：它可能来自 .detach()、.data、"
                                     "torch.tensor(另一个张量)，或是在 no_grad() 中计算的；"
                                     "这些都会得到没有历史记录的张量。",
    "why_not_on_path": "{name} 需要梯度，但它不在从 {out} 回到叶子的任何路径上：{out} 不是由它计算"
                       "出来的，所以从 {out} 开始的 backward() 永远到达不了它。",
    "why_not_on_path_line": "第 {line} 行使用 {name} 的方式切断了计算图：  {code}",
    "why_replaced": "{name} 在 {out} 由它计算出来之后被原地修改了（版本 {version}）。{out} 的计算图"
                    "里保存的是 {name} 旧值的节点；{name} 现在有了新的 grad_fn（{node}），它不在 "
                    "{out} 的计算图上，所以（retain_grad 设定的）.grad 永远不会被填上。请在修改之后"
                    "再计算 {out}，或者使用非原地运算（{name} = {name} + 1 而不是 {name} += 1）。",
    "why_not_run": "{name} 在从 {out} 出发的路径上，所以 backward() 会填上 {name}.grad：只是自 "
                   "{out} 计算出来以来还没有运行 backward()（或者梯度被重置成了 None，例如 "
                   "optimizer.zero_grad()）。",
    "why_no_output": "{name} 是需要梯度的叶子，backward() 到达 {name} 时会填上它的 .grad。"
                     "可能是还没有调用 backward()，梯度被重置成了 None（optimizer.zero_grad()），"
                     "或者 {name} 不在你调用 backward() 的那个输出的路径上。把那个输出传进来检查："
                     "why_none({name}, output)。",
    "why_output_no_grad": "{out} 本身不需要梯度，所以根本没有计算图：它所依赖的张量都不需要梯度，"
                          "或者它是在 no_grad() 中计算的。",
    "why_retained_not_run": "调用过 {name}.retain_grad()，所以 backward() 经过 {name} 时会保留它的"
                            "梯度；只是还没有运行。",
    "why_tensor": "该张量",
    "why_code": "代码：{code}",
    # -- leafgrad tour / explain ----------------------------------------------------------------
    "tour_title": "leafgrad 导览：逐行拆解开篇示例",
    "tour_intro": "这个五行程序就是 PyTorch 自动求导教程逐行拆解的那个例子。下面每一行都在 leafgrad"
                  " 中实时运行：你看到的每个值、每个节点、每个梯度都是算出来的，不是手写的。",
    "tour_s1": "1. 叶子张量",
    "tour_import": "leafgrad 使用 PyTorch 的 API，所以 `import leafgrad as torch` 之后，PyTorch "
                   "代码无需修改就能运行。",
    "tour_leaf": "x 是叶子：它由你直接创建，不是任何运算的结果，所以 x.is_leaf 为 {is_leaf}，"
                 "x.grad_fn 为 {grad_fn}。requires_grad=True 让 autograd 记录每一个使用 x 的运算，"
                 "这样梯度之后才能流回到它。在反向传播到达它之前，x.grad 是 {grad}。",
    "tour_s2": "2. 计算的同时记录计算图",
    "tour_nodes": "运行了两个运算，每个运算都在反向计算图中记录了一个节点：x.pow(2) 记录了 {pow}，"
                  ".sum() 记录了 {sum}。z 不是叶子：它由运算产生，所以 z.grad_fn 是 {sum}；"
                  "z.requires_grad 为 {rg}，因为它由需要梯度的张量计算而来。",
    "tour_edges": "next_functions 是计算图的边：每个节点以 (节点, 输出序号) 的形式指向其输入的节点"
                  "。从 z 出发沿边走：{chain}。AccumulateGrad 是把 x 的梯度累加进 x.grad 的节点。"
                  "leafgrad 画出的整个计算图：",
    "tour_s3": "3. 数学推导",
    "tour_math": "把 x 的元素按行编号：{values}。于是",
    "tour_math2": "每个 xᵢ 只出现在一项中，而 xᵢ² 的导数是 2xᵢ，所以",
    "tour_math3": "backward() 用链式法则逐个节点地算出的正是这些数。下面是它的每一步，按引擎实际执"
                  "行的顺序（explain() 叙述这次反向传播，但不改动 x.grad）：",
    "tour_s4": "4. z.backward()，一步一步",
    "tour_s5": "5. 结果",
    "tour_result": "每个元素都等于 2xᵢ：{checks}。引擎算出的 x.grad 与上面叙述的数值一致：{match}。"
                   "",
    "tour_match_yes": "是的，逐个元素相同",
    "tour_match_no": "不一致（请把这当作 bug 报告）",
    "tour_after_head": "之后",
    "tour_after": "计算图为反向传播保存的值（PowBackward0 保存了 x，用来计算 2·x）现在已经释放，"
                  "以节省内存：第二次调用 z.backward() 会报错，除非第一次调用时传了 "
                  "retain_graph=True。如果传了，第二次 backward() 会再次累加到 x.grad 上"
                  "（梯度是累加的），这就是训练循环要调用 optimizer.zero_grad() 的原因。",
    "tour_next": "在你自己的代码上试试：  leafgrad explain your_script.py --html graph.html  "
                 "（或在 Python 中：leafgrad.autograd.explain(loss, lang=\"zh\")、"
                 "leafgrad.viz.draw(loss)、leafgrad.autograd.why_none(t, loss)）。",
    "cli_ran": "{script} 运行了 {k} 次反向传播；下面是最后一次。",
    "cli_no_backward": "{script} 运行完毕，但没有调用 backward()：没有可叙述的内容。",
    "cli_real_torch": "{script} 使用的是真正的 PyTorch（{names}），而不是 leafgrad，"
                      "所以 leafgrad 看不到它的任何反向传播。原因：脚本从一个在 leafgrad "
                      "的导入钩子安装之前就已导入 torch 的模块那里拿到了 torch；请在新进程中"
                      "运行它（leafgrad explain {script}），或在脚本里直接 import torch。",
    "cli_torch_preloaded": "leafgrad：注意：这个进程里已经导入了真正的 torch；脚本的导入得到的是 "
                           "leafgrad，但之前用真正的 torch 创建的对象仍然属于 torch。",
    "cli_wrote": "已写入 {path}",
    # -- pictures --------------------------------------------------------------------------------
    "viz_leaf": "叶子",
    "viz_output": "输出",
    "viz_grad": "梯度",
    "viz_value": "值",
    "viz_step": "步骤",
    "viz_next": "下一步 ▶",
    "viz_prev": "◀ 上一步",
    "viz_reset": "重置",
    "viz_play": "播放",
    "viz_start": "按“下一步”逐个节点运行反向传播。",
    "viz_done": "完成：每个叶子的梯度都已算出。",
    "viz_title": "leafgrad：{out} 的反向传播",
    "viz_legend": "蓝色：叶子 · 灰色：运算节点 · 绿色：输出 · 金色：正在运行的节点",
    "viz_fit": "适应窗口",
    "viz_full": "完整的叙述",
    "viz_seen": "（共享节点，见上方）",
}

# 非逐元素节点对梯度做了什么，按节点名索引（{x}、{in_shape}、{dims} 等为占位符）。
OP_NOTES: dict[str, str] = {
    "SumBackward0": "{out} 是 {x} 所有元素之和；每个元素在和中恰好出现一次（∂{out}/∂{x}ᵢ = 1），"
                    "所以传入的梯度被复制给 {x} 的每个元素，形状为 {in_shape}",
    "SumBackward1": "{out} 沿第 {dims} 维对 {x} 求和；每个元素只在一个和中出现一次，所以每个输出的"
                    "梯度沿第 {dims} 维复制，回到形状 {in_shape}",
    "MeanBackward0": "{out} 是 {x} 的 {n} 个元素的平均值；每个元素贡献 1/{n} = {inv}，所以每个"
                     "元素得到传入梯度除以 {n}",
    "MeanBackward1": "{out} 沿第 {dims} 维对 {x} 求平均（每组 {n} 个元素）；每个元素得到对应输出的"
                     "梯度除以 {n}",
    "MmBackward0": "{out} = {a} @ {b}：{out} 的每个元素是 {a} 的一行乘以 {b} 的一列，所以 "
                   "∂L/∂{a} = ∂L/∂{out} @ {b}ᵀ，∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "MatmulBackward0": "{out} = {a} @ {b}：{out} 的每个元素是 {a} 的一行乘以 {b} 的一列，所以 "
                       "∂L/∂{a} = ∂L/∂{out} @ {b}ᵀ，∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "MvBackward0": "{out} = {a} @ {b}（矩阵乘向量）：∂L/∂{a} 是 ∂L/∂{out} 与 {b} 的外积；"
                   "∂L/∂{b} = {a}ᵀ @ ∂L/∂{out}",
    "DotBackward0": "{out} = Σ {a}ᵢ·{b}ᵢ，所以 ∂{out}/∂{a}ᵢ = {b}ᵢ，∂{out}/∂{b}ᵢ = {a}ᵢ",
    "ViewBackward0": "改变形状不移动任何数，所以梯度被变回形状 {in_shape}",
    "UnsafeViewBackward0": "改变形状不移动任何数，所以梯度被变回形状 {in_shape}",
    "TransposeBackward0": "转置只是移动数的位置，所以梯度被转置回去（第 {dim0} 和第 {dim1} 维）",
    "TBackward0": "转置只是移动数的位置，所以梯度被转置回去",
    "PermuteBackward0": "维度重排只是移动数的位置，所以梯度按相反的顺序重排回去",
    "UnsqueezeBackward0": "unsqueeze 增加了一个大小为 1 的维度；梯度再把它去掉",
    "SqueezeBackward0": "squeeze 去掉了大小为 1 的维度；梯度把它们加回来（{in_shape}）",
    "SqueezeBackward1": "squeeze 去掉了一个大小为 1 的维度；梯度把它加回来（{in_shape}）",
    "SqueezeBackward2": "squeeze 去掉了大小为 1 的维度；梯度把它们加回来（{in_shape}）",
    "ExpandBackward0": "expand 不复制内存地重复了 {x}；所有重复部分的梯度被加回到形状 {in_shape}",
    "SelectBackward0": "索引取出了 {x} 的一个切片；梯度回到那个切片，其余位置为零（形状 {in_shape}"
                       "）",
    "SliceBackward0": "切片取出了 {x} 的一部分；梯度回到那些位置，其余位置为零（形状 {in_shape}）",
    "IndexBackward0": "索引取出了 {x} 的一些元素；它们的梯度回到原来的位置（同一元素被取两次则相加"
                      "），其余位置为零",
    "AliasBackward0": "别名：梯度原样通过",
    "ToCopyBackward0": "类型或设备转换：梯度被转换回去",
    "WhereBackward0": "where() 的每个元素取自 {a} 或 {b}；梯度传给它来自的那一个，另一个得到零",
}

# explain by module, diagnose() and the training monitor (locale/train_zh.py)
from .train_zh import MODULE_NOTES as MODULE_NOTES  # noqa: E402
from .train_zh import STRINGS as _TRAIN  # noqa: E402

STRINGS.update(_TRAIN)
