"""English texts, key -> text. Keys group by page or module: `app.`, `train.`, `setting.`, ..."""

EN: dict[str, str] = {
    "app.language.help": "The language of every page; your browser's language is the default.",
    # Gates of the window, classify and text tasks
    "gates.window.label": "Window",
    "gates.window.help": (
        "Which window to trace: windows 0–{last} trained the model, the rest of the {windows} "
        "are test windows."
    ),
    "gates.window.train": "a training window",
    "gates.window.test": "a test window",
    "gates.window.caption": (
        "Window {window} ({part}): the model reads it from a zero state, one point a step, and "
        "answers from its last state."
    ),
    "gates.window.backward": (
        "This model also reads each window backwards; these are the gates of its forward core."
    ),
    "gates.text.subheader": "The text, coloured by one unit",
    "gates.text.intro": (
        "Each character of the held-out text is coloured by the chosen unit's activation h "
        "after reading it: red positive, blue negative, white near zero (hover for the value). "
        "Rank the units to find those that track the position in the line or punctuation."
    ),
    "gates.text.start": "Start (character)",
    "gates.text.start.help": "Where the passage starts in the held-out text ({chars} characters).",
    "gates.text.length": "Length (characters)",
    "gates.text.length.help": (
        "How many characters to trace, at most {most}; the state starts from zeros at the first."
    ),
    "gates.text.rank": "Rank units by",
    "gates.text.rank.line": "position in the line",
    "gates.text.rank.punctuation": "punctuation",
    "gates.text.caption": (
        "Epoch {epoch} of {epochs}. The state starts from zeros at the passage's first character."
    ),
    "gates.text.unit": "Unit",
    "gates.text.unit.help": (
        "Units in ranking order: the first follows the chosen property most closely (r: its "
        "correlation over the passage)."
    ),
    "gates.text.unit_option": "unit {unit} (r = {r})",
    "gates.text.col.unit": "unit",
    "gates.text.col.r": "correlation r",
    # The Sweep page's cell picker and the Runs page it opens
    "sweep.cell.label": "Cell",
    "sweep.cell.help": (
        "The cell whose runs the band shows; or click a cell of the heatmap (once the sweep has"
        " ended)."
    ),
    "runs.from_sweep": (
        "The sweep cell's {count} run(s) are compared below; the table shows the runs whose"
        " names begin with {cell}"
    ),
}
