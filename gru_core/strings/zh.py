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
}
