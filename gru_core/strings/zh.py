"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # First impressions: standardised uploads, confirmations and undo, timestamps
    "data.standardize.label": "训练时标准化",
    "data.standardize.help": (
        "上传的序列默认会标准化，除非你关闭此项：模型学习的是 (数值 - 均值) / 标准差，"
        "均值和标准差取自训练部分。与“训练 > 更多设置 > 标准化”是同一个设置。"
    ),
    "data.standardize.on": (
        "训练时已标准化：模型学习 (数值 - {mean}) / {std}（训练部分的均值和标准差），"
        "再把预测换算回来。损失、误差和预测都使用序列本身的单位。"
    ),
    "data.standardize.off": (
        "未标准化：模型直接学习原始数值。远离均值 0、标准差 1 的序列往往训练得不好"
        "（MLP 可能胜过 GRU）；损失和误差使用序列本身的单位。"
    ),
    "undo.button": "撤销",
    "undo.help": "恢复被替换的内容。",
    "undo.reset": "运行已重置（已停止并从本页清除）。",
    "undo.preset": "预设“{preset}”替换了你的设置（原为“{before}”）。",
    "undo.upload": "{name} 替换了数据（{before}）。",
    "train.reset.help": "停止运行并从本页清除；可用“撤销”恢复。",
    "overview.confirm": "“用默认设置训练”将替换{lost}。继续吗？",
    "overview.confirm.settings": "你的设置（{names}）",
    "overview.confirm.run": "正在进行的运行",
    "overview.confirm.yes": "替换并训练",
    "overview.confirm.no": "取消",
    "data.time.label": "时间轴",
    "data.time.none": "无：按步数编号",
    "data.time.help": (
        "文件中的日期或时间列，作为数据页和预测图的横轴。无论是否选择，模型都按顺序学习数值。"
    ),
    # shareable links and lessons
    "share.ignored": "链接中的这些设置无效，已保留默认值：{params}。",
    "share.copy": "复制链接",
    "share.copy.help": "复制指向本页并带有当前设置的链接（你的训练记录不会被分享）。",
    "share.copied": "已复制",
    "lessons.nav": "课程",
    "lessons.title": "课程",
    "lessons.intro": "引导式场景。每个课程都会在你的工作区中打开一个已经训练好的运行，"
    "把它的设置载入数据页和训练页，并告诉你接下来看哪里。",
    "lessons.open": "打开这个课程",
    "lessons.opened": "运行 #{run} 已打开：它已在你的工作区中，所有页面现在都显示它。",
    "lessons.link": "本课程的链接：`{link}`",
    "lessons.error": "无法打开课程 {name}：{error}",
    "lessons.unknown": "没有名为 {name} 的课程；课程页列出了所有课程。",
    "lesson.mlp_sine.title": "为什么 MLP 无法预测正弦波",
    "lesson.mlp_sine.story": "GRU 和 MLP 学习同一条带噪声的正弦波。每一步都给出真实值时，"
    "两者都能很好地预测下一个值（测试误差约为 0.009 和 0.017）。让它们用自己的预测继续预测"
    " 199 步时，MLP 的误差增大到约 0.5，而 GRU 的误差仍接近 0.01。MLP 只看到当前的值，"
    "而正弦波会两次经过同一个值，一次上升、一次下降：仅凭一个值无法知道接下来往哪里走。"
    "GRU 的状态记住了曲线正在往哪个方向走。",
    "lesson.mlp_sine.next": "下一步：在“Rollouts”页比较两个模型用自己的输出继续预测的结果",
    "lesson.update_gate.title": "更新门记住了什么",
    "lesson.update_gate.story": "一个有 8 个单元的 GRU 已经学会了这条正弦波。每一步，"
    "它的更新门 z 逐个单元地决定保留多少旧状态（z 接近 1）、用新的候选状态 n 替换多少"
    "（z 接近 0）。在这次运行中，有一个单元的 z 始终接近 0.99：它把自己的值保持约 80 步，"
    "是一段缓慢变化的记忆。其余七个单元保留得少一些（z 约为 0.6 到 0.9），"
    "在 2 到 12 步内就更新一遍，跟随最新的值。",
    "lesson.update_gate.next": "下一步：在“Gates”页找出 z 一直接近 1 的那个单元",
    "lesson.rnn_forgets.title": "普通 RNN 会遗忘",
    "lesson.rnn_forgets.story": "同样大小的 GRU 和普通 RNN 学习同一条正弦波。RNN 没有门："
    "每一步都把整个状态和新输入一起挤过同一个 tanh。只预测一步时，它几乎和 GRU 一样好"
    "（测试误差约为 0.012 和 0.009）；但用自己的预测继续预测时，它的误差增大到约 0.6，"
    "而 GRU 的误差仍接近 0.01。它的记忆很短：4 步之前的输入对 RNN 预测的影响只有最新输入的"
    "三分之一；对 GRU 的影响仍有四分之三。",
    "lesson.rnn_forgets.next": "下一步：在“Memory”页查看每个模型的预测能追溯到多远的过去",
    # layouts and presenter mode
    "present.toggle": "演示模式",
    "present.help": "用于投影：大字号、粗线条图表，侧边栏收起，图表排在设置之前。"
    "带 ?present=1 的链接会以此模式打开应用。",
    "runs.all_columns": "显示所有列",
    "runs.all_columns.help": "显示表格的每一列；关闭时只显示窄窗口也放得下的几列。",
}
