"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
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
}
