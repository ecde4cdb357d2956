"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # layouts and presenter mode
    "present.toggle": "演示模式",
    "present.help": "用于投影：大字号、粗线条图表，侧边栏收起，图表排在设置之前。"
    "带 ?present=1 的链接会以此模式打开应用。",
    "runs.all_columns": "显示所有列",
    "runs.all_columns.help": "显示表格的每一列；关闭时只显示窄窗口也放得下的几列。",
}
