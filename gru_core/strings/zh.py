"""简体中文 texts, key -> text; the same keys as `en.EN` (a test checks both ways)."""

ZH: dict[str, str] = {
    "app.language.help": "所有页面使用的语言；默认跟随浏览器的语言。",
    # Replay: the epoch scrubber, Play and slow motion
    "replay.epoch": "显示的轮次",
    "replay.epoch.help": "拖动以查看模型在该轮训练之后的样子。本次运行共 {epochs} 轮，保存了其中"
    " {kept} 轮的权重（短的运行每轮都保存，长的运行按对数间隔保存）；最右端显示运行的当前状态。",
    "replay.play": "播放",
    "replay.pause": "暂停",
    "replay.play.help": "回放训练过程：图表依次显示各个保存的轮次。",
    "replay.speed": "速度",
    "replay.speed.value": "每秒 {n} 轮",
    "replay.speed.help": "播放时每秒显示的已保存轮次数。",
    "replay.marker": "第 {epoch} 轮",
    "setting.slow_motion.label": "慢动作（秒 / 轮）",
    "setting.slow_motion.help": "每轮训练至少持续这么多秒，便于演示时观看；0 = 全速。只改变节奏，"
    "不改变任何数值。",
}
