"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # layouts and presenter mode
    "present.toggle": "Presenter mode",
    "present.help": "For a projector: large type, bold charts, the sidebar tucked away and the"
    " charts before the settings. A link with ?present=1 opens the app this way.",
    "runs.all_columns": "All columns",
    "runs.all_columns.help": "Every column of the table; off, the few that fit a narrow window.",
}
