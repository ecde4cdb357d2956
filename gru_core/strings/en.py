"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # First impressions: standardised uploads, confirmations and undo, timestamps
    "data.standardize.label": "Standardise for training",
    "data.standardize.help": (
        "Uploaded series are standardised unless you turn this off: the models learn"
        " (value - mean) / std of the training part. The same setting as Train > More"
        " settings > Standardise."
    ),
    "data.standardize.on": (
        "Standardised for training: the models learn (value - {mean}) / {std}, the training"
        " part's mean and std, and map their forecasts back. Losses, errors and forecasts are"
        " in the series' own units."
    ),
    "data.standardize.off": (
        "Not standardised: the models learn the raw values. A series far from mean 0 and"
        " std 1 often trains poorly (the MLP may beat the GRU); losses and errors are in the"
        " series' own units."
    ),
    "undo.button": "Undo",
    "undo.help": "Bring back what this replaced.",
    "undo.reset": "The run was reset (stopped and cleared from this page).",
    "undo.preset": "The preset '{preset}' replaced your settings (from '{before}').",
    "undo.upload": "{name} replaced the data ({before}).",
    "train.reset.help": "Stop the run and clear it from this page; Undo brings it back.",
    "overview.confirm": "Train with defaults replaces {lost}. Go ahead?",
    "overview.confirm.settings": "your settings ({names})",
    "overview.confirm.run": "the run going now",
    "overview.confirm.yes": "Replace and train",
    "overview.confirm.no": "Cancel",
    "data.time.label": "Time axis",
    "data.time.none": "none: number the steps",
    "data.time.help": (
        "The file's date or time column, drawn as the x axis of the Data page and of the"
        " forecasts. The models learn the values in order either way."
    ),
}
