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
}
