"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # live charts and the Train page's timing
    "live.chart.epoch": "轮次",
    "live.chart.model": "模型",
    "live.chart.measure": "指标",
    "live.chart.off_chart": "数值（超出图表）",
    "live.current_run": "当前训练",
    "live.chart.alt": "各模型每轮的损失：训练损失与测试误差。",
    "live.chart.clipped": (
        "高于 {ceiling} 的数值画在图表上边缘（▲）；把鼠标移到三角形上可查看真实数值。"
    ),
    "live.cards_epoch": "第 {epoch} 轮（共 {epochs} 轮）之后：",
    "live.estimate": "这次训练大约需要 {duration}（按本工作区之前训练的速度估算：{runs} 次）。",
}
