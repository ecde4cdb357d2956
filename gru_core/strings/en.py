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
    # shareable links and lessons
    "share.ignored": "Ignored in the link (the default is kept): {params}.",
    "share.copy": "Copy link",
    "share.copy.help": "A link to this page with the current settings (your runs stay private).",
    "share.copied": "Copied",
    "lessons.nav": "Lessons",
    "lessons.title": "Lessons",
    "lessons.intro": "Guided scenarios. Each opens an already-trained run in your workspace,"
    " loads its settings on the Data and Train pages, and tells you where to look next.",
    "lessons.open": "Open this lesson",
    "lessons.opened": "Run #{run} is open: it is in your workspace and on every page now.",
    "lessons.link": "Link to this lesson: `{link}`",
    "lessons.error": "The lesson {name} could not be opened: {error}",
    "lessons.unknown": "There is no lesson called {name}; the Lessons page lists them.",
    "lesson.mlp_sine.title": "Why the MLP cannot forecast a sine",
    "lesson.mlp_sine.story": "A GRU and an MLP learn the same noisy sine. Told the true value at"
    " each step, both predict the next one well (test errors about 0.009 and 0.017). Fed their"
    " own forecasts for 199 steps, the MLP's error grows to about 0.5 while the GRU's stays near"
    " 0.01. The MLP sees only the current value, and a sine passes each value twice, once"
    " rising and once falling: one value cannot tell it which way to go. The GRU's state"
    " remembers the way it was going.",
    "lesson.mlp_sine.next": "Next: on Rollouts, compare the two forecasts fed their own output",
    "lesson.update_gate.title": "What the update gate remembers",
    "lesson.update_gate.story": "A GRU of 8 units has learnt the sine. At each step its update"
    " gate z decides, unit by unit, how much of the old state to keep (z near 1) and how much to"
    " replace with the new candidate n (z near 0). In this run one unit keeps z near 0.99 all"
    " the time: it holds its value for about 80 steps, a slow memory. The other seven keep less"
    " (z about 0.6 to 0.9) and turn over within 2 to 12 steps, following the latest values.",
    "lesson.update_gate.next": "Next: on Gates, find the unit whose z stays near 1",
    "lesson.rnn_forgets.title": "The vanilla RNN forgets",
    "lesson.rnn_forgets.story": "A GRU and a vanilla RNN, the same size, learn the same sine."
    " The RNN has no gates: every step squeezes its whole state through one tanh with the new"
    " input. One step ahead it is nearly as good as the GRU (test errors about 0.012 and"
    " 0.009), but fed its own forecasts its error grows to about 0.6 while the GRU's stays near"
    " 0.01. Its memory is short: 4 steps back, an input moves the RNN's forecast a third as much"
    " as the latest one does; it still moves the GRU's three quarters as much.",
    "lesson.rnn_forgets.next": "Next: on Memory, see how far back each model's forecast reaches",
    # layouts and presenter mode
    "present.toggle": "Presenter mode",
    "present.help": "For a projector: large type, bold charts, the sidebar tucked away and the"
    " charts before the settings. A link with ?present=1 opens the app this way.",
    "runs.all_columns": "All columns",
    "runs.all_columns.help": "Every column of the table; off, the few that fit a narrow window.",
}
