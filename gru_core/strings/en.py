"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # live charts and the Train page's timing
    "live.chart.epoch": "epoch",
    "live.chart.model": "model",
    "live.chart.measure": "measurement",
    "live.chart.off_chart": "value (off the chart)",
    "live.current_run": "Current run",
    "live.chart.alt": "Loss per epoch of each model: training loss and test errors.",
    "live.chart.clipped": (
        "Values above {ceiling} are drawn on the chart's top edge (▲);"
        " hover a triangle for the true value."
    ),
    "live.cards_epoch": "After epoch {epoch} of {epochs}:",
    "live.estimate": (
        "This run will take about {duration} (at the pace of earlier runs here: {runs})."
    ),
}
