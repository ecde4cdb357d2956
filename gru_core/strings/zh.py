"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # shareable links and lessons
    "share.ignored": "链接中的这些设置无效，已保留默认值：{params}。",
    "share.copy": "复制链接",
    "share.copy.help": "复制指向本页并带有当前设置的链接（你的训练记录不会被分享）。",
    "share.copied": "已复制",
}
