"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # shareable links and lessons
    "share.ignored": "Ignored in the link (the default is kept): {params}.",
    "share.copy": "Copy link",
    "share.copy.help": "A link to this page with the current settings (your runs stay private).",
    "share.copied": "Copied",
}
