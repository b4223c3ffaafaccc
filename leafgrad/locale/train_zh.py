"""按模块讲解、``diagnose`` 和训练监视器的中文字符串（并入 ``zh.STRINGS``），以及每种模块的
反向传播计算什么（``MODULE_NOTES``）。"""

from __future__ import annotations

STRINGS: dict[str, str] = {
    # -- 按模块讲解 ------------------------------------------------------------------------------
    "mod_title": "{out} 的反向传播（按模块）：共 {n} {steps}，分属 {k} 次模块调用",
    "mod_intro": "按前向传播调用的顺序，模块依次是：{labels}。下面每一部分说明该模块的反向传播"
                 "计算什么，并给出实际数值；explain(...).text(detail=\"ops\") 会逐个节点讲解。",
    "mod_head": "第 {i} 个模块（共 {n} 个）：{label}  —  反向传播第 {steps} 步",
    "mod_what": "它的反向传播计算：{note}",
    "mod_brief": "形状 {shape}，范数 {norm}",
    "mod_val": "（{val}）",
    "mod_blocked": "{n} 个元素中的 {k} 个（{pct}）",
    "mod_dead": "；它的 {units} 个单元中有 {dead} 个对整个批次都输出零（死亡单元）",
    "mod_seed": "反向传播从这里开始：∂{L}/∂{out} = 1",
    "mod_in": "到达其输出 {out} 的梯度：∂{L}/∂{out} = {val}",
    "mod_param": "{name} {shape}（范数 {norm}）：∂{L}/∂{name} 的范数为 {gnorm}；直方图 "
                 "{lo} {hist} {hi}",
    "mod_param_none": "{name} {shape}（范数 {norm}）：这次反向传播没有梯度到达它",
    "mod_sends": "→ 把 ∂{L}/∂{inp} = {val} 传给 {target}",
    "mod_result": "{name}.grad：{val}",
    "mod_hint": "（这个计算图由 nn.Module 层构建：在 explaining() 中构建时，还会按模块讲解。）",
    "mod_expand": "在 HTML 页面（save_html）中每个模块是一个方框：点击它即可展开到各个节点。",
    "relu_blocked_all": "这个 ReLU 挡住了全部梯度：{inp} 的所有元素都 ≤ 0，所以没有梯度经过 "
                        "{out} 往回传（若整层如此，就是“死亡 ReLU”；参见 "
                        "leafgrad.autograd.diagnose）。",
    # -- 页面 ------------------------------------------------------------------------------------
    "viz_expand_all": "全部展开",
    "viz_collapse_all": "全部收起",
    "viz_group_hint": "点击模块即可展开",
    "viz_params": "参数",
    "viz_diag": "诊断",
    "viz_blocked": "挡住了全部梯度（输入都 ≤ 0）",
    "viz_param": "{name} {shape} · 范数 {norm} · 梯度范数 {gnorm}",
    "viz_param_none": "{name} {shape} · 范数 {norm} · 没有梯度",
    "viz_group_sub": "{k} 个节点 · 点击展开",
    "viz_close": "收起",
    # -- diagnose() ------------------------------------------------------------------------------
    "diag_title": "{model} 的梯度流：{n} {layers}，{k} {flags}",
    "diag_layer_one": "层",
    "diag_layer_many": "层",
    "diag_flag_one": "个问题",
    "diag_flag_many": "个问题",
    "diag_healthy": "没有发现问题：梯度到达了每个参数，保持有限，并且在各层之间既没有消失也没有"
                    "爆炸。",
    "diag_table_head": "层                             梯度范数    权重范数     梯度/权重    "
                       "更新/权重",
    "diag_cols": "层|梯度范数|权重范数|梯度/权重|更新/权重",
    "diag_from_grad": "（使用 .grad 中已有的梯度：损失的计算图已被释放，所以激活相关的检查——死亡 "
                      "ReLU、饱和、NaN 的来源——需要在 backward() 之前调用 diagnose()，或者使用 "
                      "leafgrad.utils.monitor）",
    "diag_warn": "警告：",
    "diag_info": "提示：",
    "diag_try": "可以尝试：{fix}",
    "flag_vanishing": "梯度消失：梯度范数从 {last}（最靠近损失）到 {first}（最靠近输入）缩小了 "
                      "{factor} 倍，所以前面几层几乎学不到东西。",
    "fix_vanishing": "隐藏层改用 ReLU 一类的激活函数而不是 sigmoid/tanh，使用 He/Kaiming 初始化、"
                     "归一化层（BatchNorm/LayerNorm）或残差连接。",
    "flag_exploding": "梯度爆炸：梯度范数从 {last}（最靠近损失）到 {first}（最靠近输入）增大了 "
                      "{factor} 倍。",
    "flag_exploding_abs": "梯度爆炸：{layer} 的梯度是其权重大小的 {ratio} 倍（梯度范数 {norm}），"
                          "所以用普通的学习率更新一步，权重就会被推得很远。",
    "fix_exploding": "降低学习率，裁剪梯度（torch.nn.utils.clip_grad_norm_(model.parameters(), "
                     "1.0)），使用更小的初始化，或加入归一化层。",
    "flag_dead_relu": "{layer} 中有死亡 ReLU：它的 {units} 个单元中有 {dead} 个对整个批次都输出零，"
                      "所以没有梯度能从它们传回。",
    "fix_dead_relu": "降低学习率，把偏置初始化为略大于零的值，或改用 LeakyReLU/GELU；检查输入是否"
                     "已经归一化。",
    "flag_saturated": "{layer} 中的 {kind} 饱和了：{pct} 的输出落在平坦的尾部（斜率 < 0.01），"
                      "经过它们的梯度几乎为零。",
    "fix_saturated": "对输入做归一化，使用更小的初始权重，在它之前加归一化层，或在隐藏层使用 "
                     "ReLU。",
    "flag_no_grad": "{name} 没有收到梯度。{why}",
    "fix_no_grad": "如果它应该学习，就在产生损失的前向计算中使用它，不要经过 detach()/no_grad()；"
                   "如果本来就要冻结它，请调用 requires_grad_(False)，让优化器跳过它。",
    "flag_nan_forward": "NaN/inf 最早出现在前向传播的 {node}{where}：它的输入是有限的，输出却"
                        "不是。",
    "flag_nan_backward": "NaN/inf 最早出现在反向传播的 {node}{where}：传入的梯度是有限的，它往下"
                         "传的梯度却不是。",
    "flag_nan_grad": "{name}.grad 含有 NaN 或 inf。",
    "fix_nan": "检查那个运算：对零或负数取 log 或 sqrt、除以零、对很大的数取 exp；加一个小的 "
               "eps、裁剪输入，或使用数值稳定的融合形式（log_softmax、BCEWithLogitsLoss）；"
               "降低学习率。",
    "flag_lr_high": "学习率看起来太高：一步更新改变的权重是其大小的 {ratio}（各层的中位数；健康的"
                    "值通常约为 0.001）。",
    "fix_lr_high": "把学习率除以大约 {factor}。",
    "flag_lr_low": "学习率看起来太低：一步更新只改变权重大小的 {ratio}（各层的中位数；健康的值"
                   "通常约为 0.001）。",
    "fix_lr_low": "把学习率乘以大约 {factor}。",
    "diag_after": "{layer} 之后的 {kind}",
    "diag_where": "（{where}）",
    # -- 训练监视器 ------------------------------------------------------------------------------
    "mon_title": "leafgrad 训练监视器：{steps} 步",
    "mon_summary": "监视器：{steps} 步，损失 {first} → {last}（最好 {best}，在第 {at} 步）；"
                   "{flags}",
    "mon_no_flags": "没有发现问题",
    "mon_flags": "{k} {flags}：{names}",
    "mon_wrote": "监视器：报告已写入 {path}",
    "mon_loss": "损失",
    "mon_grad_flow": "每层的梯度范数随步数的变化（对数刻度）",
    "mon_update_ratio": "每层的更新/权重比（对数刻度；阴影带为 1e-4 … 1e-2）",
    "mon_last_grads": "最后一步每层的梯度范数（输入一侧在前）",
    "mon_step": "步",
    "mon_no_loss": "没有记录到损失：调用 m.log(loss)，或在代码块中调用 loss.backward()。",
    "mon_no_steps": "代码块中没有运行优化器的 step，也没有运行反向传播。",
}

MODULE_NOTES: dict[str, str] = {
    "Linear": "out = input·Wᵀ + b，所以 ∂{L}/∂W = (∂{L}/∂out)ᵀ·input{g_weight}，∂{L}/∂b = "
              "∂{L}/∂out 沿批次求和{g_bias}，∂{L}/∂input = ∂{L}/∂out·W{gin}。",
    "Bilinear": "out = x1ᵀ·W·x2 + b，所以 ∂{L}/∂x1 = 以 ∂{L}/∂out 加权的 W·x2，∂{L}/∂x2 同理，"
                "∂{L}/∂W = 以 ∂{L}/∂out 加权的外积 x1·x2ᵀ{g_weight}，∂{L}/∂b = ∂{L}/∂out "
                "沿批次求和{g_bias}。",
    "_ConvNd": "每个输出是卷积核与输入中一个小块的点积，所以 ∂{L}/∂weight = 每个小块乘以其输出"
               "位置的梯度，再对批次和所有位置求和{g_weight}；∂{L}/∂bias = ∂{L}/∂out 对批次和"
               "位置求和{g_bias}；∂{L}/∂input = 把 ∂{L}/∂out 经同一个卷积核散布回去（转置卷积）"
               "{gin}。",
    "_ConvTransposeNd": "卷积的转置，所以 ∂{L}/∂input 是 ∂{L}/∂out 与卷积核的普通卷积{gin}，"
                        "∂{L}/∂weight 把每个输入值与它被散布到的输出小块配对{g_weight}。",
    "_BatchNorm": "每个通道用本批次的均值和方差归一化（x̂），再乘以 γ（weight）加上 β（bias）。"
                  "∂{L}/∂γ = Σ ∂{L}/∂out·x̂{g_weight}；∂{L}/∂β = Σ ∂{L}/∂out{g_bias}；"
                  "∂{L}/∂input = γ/σ·(g − mean(g) − x̂·mean(g·x̂))（按通道），因为每个输入也"
                  "改变了本批次的均值和方差{gin}（在 eval 模式下，运行统计量是常数，只剩 γ/σ·g）。",
    "_InstanceNorm": "每个样本的每个通道用自己的均值和方差归一化，所以 ∂{L}/∂input = 1/σ·(g − "
                     "mean(g) − x̂·mean(g·x̂)){gin}；γ 和 β（若有）得到 Σ g·x̂ 和 Σ g"
                     "{g_weight}{g_bias}。",
    "LayerNorm": "每个样本在最后几个维度上归一化（x̂），再乘以 γ（weight）加上 β（bias）。"
                 "∂{L}/∂γ = 对批次求和的 ∂{L}/∂out·x̂{g_weight}；∂{L}/∂β = Σ ∂{L}/∂out"
                 "{g_bias}；∂{L}/∂input = γ/σ·(g − mean(g) − x̂·mean(g·x̂))（在每个样本内）"
                 "{gin}。",
    "GroupNorm": "通道按组在每个样本内归一化，所以 ∂{L}/∂input = γ/σ·(g − mean(g) − "
                 "x̂·mean(g·x̂))（在每组内）{gin}；∂{L}/∂γ = Σ g·x̂{g_weight}，∂{L}/∂β = Σ g"
                 "{g_bias}。",
    "RMSNorm": "每个样本除以它的均方根再乘以 γ，所以 ∂{L}/∂input = γ/rms·(g − x̂·mean(g·x̂))"
               "{gin}，∂{L}/∂γ = Σ g·x̂{g_weight}。",
    "Embedding": "前向传播查找了权重表中的若干行，所以 ∂{L}/∂weight 除了被查找的行以外都是零，"
                 "被查找的行累加每次出现的梯度{g_weight}；索引没有梯度。",
    "EmbeddingBag": "前向传播对查找到的行求和或求平均，所以 ∂{L}/∂weight 中每个被查找的行得到"
                    "其所在袋的梯度（求平均时再除以袋的大小）{g_weight}。",
    "_DropoutNd": "前向传播随机把比例为 p 的元素置零，其余乘以 1/(1 − p)；反向传播使用同样的掩码"
                  "和缩放，被丢弃的元素不传梯度{gin}。",
    "ReLU": "out = max(input, 0)，所以输入为正的地方 ∂{L}/∂input = ∂{L}/∂out，其余为 0：它挡住"
            "了 {blocked}{dead}{gin}。",
    "ReLU6": "out = min(max(input, 0), 6)，所以只有 0 < input < 6 的地方才传梯度{gin}。",
    "LeakyReLU": "输入为正时 out = input，否则 out = negative_slope·input，所以 ∂{L}/∂input 在"
                 "正的地方等于 ∂{L}/∂out，其余乘以 negative_slope：没有单元会被完全挡住{gin}。",
    "PReLU": "与 LeakyReLU 相同但斜率 a 是学习得到的：∂{L}/∂input = g·(1 或 a)，∂{L}/∂a = "
             "负输入处 g·input 之和{g_weight}。",
    "ELU": "输入为正时 out = input，否则 out = α(eˣ − 1)，所以 ∂{L}/∂input 在正的地方等于 g，"
           "其余为 g·(out + α){gin}。",
    "GELU": "out = input·Φ(input)，一种平滑的 ReLU，所以 ∂{L}/∂input = g·(Φ(x) + x·φ(x)){gin}。",
    "SiLU": "out = x·σ(x)，所以 ∂{L}/∂input = g·σ(x)·(1 + x·(1 − σ(x))){gin}。",
    "Softplus": "out = log(1 + eˣ)，一种平滑的 ReLU，斜率为 σ(x)，所以 ∂{L}/∂input = g·σ(x)"
                "{gin}。",
    "Sigmoid": "out = σ(input)，它的斜率 σ·(1 − σ) 最大只有 0.25，所以 ∂{L}/∂input = "
               "∂{L}/∂out·σ·(1 − σ){gin} 会缩小梯度（这里是 {ratio} 倍）；{sat} 的输出落在"
               "平坦的尾部。",
    "Tanh": "out = tanh(input)，它的斜率 1 − tanh² 最大为 1，所以 ∂{L}/∂input = "
            "∂{L}/∂out·(1 − out²){gin}（这里是传入范数的 {ratio} 倍）；{sat} 的输出落在平坦的"
            "尾部。",
    "Hardtanh": "out = 把 input 限制在 [min_val, max_val] 内，所以只有输入在区间内的地方才传"
                "梯度{gin}。",
    "Softmax": "每一行变成概率 p，所以 ∂{L}/∂input = p·(g − Σ g·p)（按行）{gin}。",
    "LogSoftmax": "每一行变成对数概率，所以 ∂{L}/∂input = g − softmax·Σ g（按行）{gin}。",
    "Flatten": "改变形状不移动数值，所以梯度被变回原来的形状{gin}。",
    "Unflatten": "改变形状不移动数值，所以梯度被变回原来的形状{gin}。",
    "Identity": "梯度原样通过{gin}。",
    "_MaxPoolNd": "每个输出取其窗口中的最大值，所以它的梯度只传给那个位置，窗口中其余位置为 0"
                  "{gin}。",
    "_AvgPoolNd": "每个输出是其窗口的平均值，所以它的梯度平均分给窗口中的每个元素{gin}。",
    "_AdaptiveAvgPoolNd": "每个输出是其区域的平均值，所以它的梯度平均分给区域中的每个元素{gin}。",
    "_AdaptiveMaxPoolNd": "每个输出取其区域中的最大值，所以它的梯度只传给那个位置{gin}。",
    "RNNBase": "循环在时间上被展开，所以反向传播从最后一个时间步一直走到第一个（随时间反向传播），"
               "把每一步的贡献累加到共享的权重上{g_weight_ih_l0}；经过很多步的梯度可能按几何级数"
               "缩小或增大{gin}。",
    "RNNCellBase": "循环单元的一个时间步：∂{L}/∂input 和 ∂{L}/∂hidden 经过它的各个门往回传，"
                   "权重得到这一步的那一份{gin}。",
    "Sequential": "一个容器：它的反向传播就是它的子模块的反向传播，从最后一个子模块开始{gin}。",
    "MSELoss": "loss = mean((input − target)²) = {value}，所以反向传播从 ∂{L}/∂{L} = 1 开始，"
               "∂{L}/∂input = 2·(input − target)/N{gin}。",
    "L1Loss": "loss = mean(|input − target|) = {value}，所以 ∂{L}/∂input = sign(input − "
              "target)/N{gin}：无论偏差多大，每个元素的梯度大小都一样。",
    "SmoothL1Loss": "在零附近是平方，远处是绝对值，所以 ∂{L}/∂input 在零附近为 (input − "
                    "target)/β/N，远处为 ±1/N{gin}。",
    "HuberLoss": "在零附近是平方，远处是绝对值，所以 ∂{L}/∂input 在零附近为 (input − "
                 "target)/N，远处为 ±δ/N{gin}。",
    "CrossEntropyLoss": "loss = −mean(log softmax(input)[target]) = {value}，所以反向传播从 1 "
                        "开始，∂{L}/∂input = (softmax(input) − one_hot(target))/N：每一行提高"
                        "目标类别，并按概率降低每个类别{gin}。",
    "NLLLoss": "loss = −mean(input[target]) = {value}，所以 ∂{L}/∂input 在每行的目标位置为 "
               "−1/N，其余为 0{gin}。",
    "BCELoss": "loss = −mean(y·log p + (1 − y)·log(1 − p)) = {value}，所以 ∂{L}/∂p = (p − y)/"
               "(p·(1 − p))/N，p 接近 0 或 1 时会变得非常大{gin}。",
    "BCEWithLogitsLoss": "loss = BCE(σ(x), y) = {value}，为了数值稳定而融合在一起，所以 "
                         "∂{L}/∂x = (σ(x) − y)/N{gin}。",
    "KLDivLoss": "loss = Σ target·(log target − input) = {value}，所以 ∂{L}/∂input = "
                 "−target（再按归约方式相除）{gin}。",
    "_Loss": "一个损失 = {value}：反向传播从这里以 ∂{L}/∂{L} = 1 开始，把损失的梯度传给它的"
             "预测{gin}。",
    "_default": "它的反向传播按相反的顺序运行前向传播记录的节点（展开这一组即可看到每个节点）"
                "{gin}。",
}
