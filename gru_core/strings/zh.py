"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # Gates of the window, classify and text tasks
    "gates.window.label": "窗口",
    "gates.window.help": (
        "要追踪的窗口：第 0–{last} 个窗口用于训练，{windows} 个窗口中其余的是测试窗口。"
    ),
    "gates.window.train": "训练窗口",
    "gates.window.test": "测试窗口",
    "gates.window.caption": (
        "窗口 {window}（{part}）：模型从零状态开始逐点读取，用最后的状态给出答案。"
    ),
    "gates.window.backward": "该模型还会反向读取每个窗口；这里显示的是正向核心的门。",
    "gates.text.subheader": "按一个单元着色的文本",
    "gates.text.intro": (
        "留出文本的每个字符按所选单元读完该字符后的激活值 h 着色：红色为正，蓝色为"
        "负，接近零为白色（悬停可见数值）。对单元排序，找出跟踪行内位置或标点的单元。"
    ),
    "gates.text.start": "起始字符",
    "gates.text.start.help": "片段在留出文本（共 {chars} 个字符）中的起始位置。",
    "gates.text.length": "长度（字符）",
    "gates.text.length.help": "追踪的字符数，最多 {most} 个；状态从第一个字符处的零开始。",
    "gates.text.rank": "单元排序依据",
    "gates.text.rank.line": "行内位置",
    "gates.text.rank.punctuation": "标点",
    "gates.text.caption": "第 {epoch} / {epochs} 轮。状态从片段第一个字符处的零开始。",
    "gates.text.unit": "单元",
    "gates.text.unit.help": (
        "按排序列出的单元：第一个最紧密地跟随所选属性（r：在该片段上的相关系数）。"
    ),
    "gates.text.unit_option": "单元 {unit}（r = {r}）",
    "gates.text.col.unit": "单元",
    "gates.text.col.r": "相关系数 r",
    # The Sweep page's cell picker and the Runs page it opens
    "sweep.cell.label": "单元格",
    "sweep.cell.help": "带状图显示其运行的单元格；也可以直接点击热力图中的单元格（扫描结束后）。",
    "runs.from_sweep": "下面比较该扫描单元格的 {count} 个运行；表格显示名称以 {cell} 开头的运行。",
}
