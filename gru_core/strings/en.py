"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # Replay: the epoch scrubber, Play and slow motion
    "replay.epoch": "Epoch shown",
    "replay.epoch.help": "Drag to see the models as they were after that epoch. Weights kept at"
    " {kept} of the run's {epochs} epochs (every epoch of a short run; log-spaced for a long"
    " one); the end shows the run as it is now.",
    "replay.play": "Play",
    "replay.pause": "Pause",
    "replay.play.help": "Replay the training: the charts step through the kept epochs.",
    "replay.speed": "Speed",
    "replay.speed.value": "{n} /s",
    "replay.speed.help": "Kept epochs shown per second while playing.",
    "replay.marker": "epoch {epoch}",
    "setting.slow_motion.label": "Slow motion (s / epoch)",
    "setting.slow_motion.help": "Each epoch takes at least this many seconds, so a demo can be"
    " watched; 0 = full speed. Only the pace changes, never a number.",
}
