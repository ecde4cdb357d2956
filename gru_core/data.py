"""The series: a seeded noisy sine, or one column of numbers read from a CSV.

Everything returned here is a 1-D float64 numpy array in the series' own units.
Anything a user can upload that cannot be trained on raises `DataError` with a
message that says what is wrong and what to do about it; no csv, numpy or
codec exception escapes `load_series` or `csv_columns`.

This module knows nothing of models or training: windowing a series into inputs
and targets is the trainer's business.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

import numpy as np

from gru_core.config import MAX_POINTS, ConfigError, DataConfig, split_index
from gru_core.i18n import t

MIN_POINTS = 50  # shortest series worth splitting into a training and a test part
MAX_ABS = 1e6  # largest |value| accepted: float32 training on larger values is unstable

Source = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | IO[str]

# Cells that mean "no value here" in common exports (Excel, pandas, R).
_MISSING = {"", "nan", "na", "n/a", "#n/a", "null", "none", "-", "?"}
# Header names that label an axis or a row number, not a signal to forecast.
_INDEX_NAMES = {"", "#", "index", "idx", "id", "no", "n", "unnamed: 0", "x", "t", "time"}
_INDEX_NAMES |= {"timestamp", "date", "datetime", "step"}
_SEPARATORS = ("\t", ";", ",", "|")  # tried in this order: ';' before ',' for decimal commas
_SNIFF_LINES = 50
_SAMPLE_ROWS = 1000  # rows inspected to decide which columns hold numbers


class DataError(ValueError):
    """A series cannot be read or used; the message says why and what to do."""


def make_sine(cfg: DataConfig = DataConfig()) -> np.ndarray:
    """sin(x) + N(0, noise) for `points` x evenly spaced over [0, 2*pi*periods]; shape (points,).

    With the default config this is exactly the tutorial's series. The tutorial
    seeds numpy's global generator and then writes the values with `%.6f` and trains
    on what it reads back, so this does the same: a `RandomState(seed)` draws the
    very same Mersenne Twister stream as `np.random.seed(seed)` without touching
    global state, and the values go through a real `%.6f` text round trip
    (`np.round(y, 6)` can differ from the parsed text in the last bit).
    """
    x = np.linspace(0, 2 * np.pi * cfg.periods, cfg.points)
    noise = np.random.RandomState(cfg.seed).normal(0, cfg.noise, cfg.points)
    buffer = io.StringIO()
    save_series(np.sin(x) + noise, buffer)
    buffer.seek(0)
    return np.loadtxt(buffer, dtype=np.float64, ndmin=1)


def save_series(series: np.ndarray, path_or_buffer: str | os.PathLike | IO) -> None:
    """Write a 1-D series one value a line with `%.6f`, the tutorial's format.

    `save_series(make_sine(), path)` is byte-identical to the tutorial's `sindata_1000.csv`.
    """
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1:
        raise DataError(t("data.error.shape", shape=values.shape))
    np.savetxt(path_or_buffer, values, fmt="%.6f")


def load_series(path_or_buffer: Source, column: str | int | None = None) -> np.ndarray:
    """Read one column of numbers from a CSV; shape (points,), float64.

    `path_or_buffer` is a path (a `str` is always a path), the file's bytes, or a
    binary or text file object such as Streamlit's `UploadedFile` (read from its start).
    The separator (tab, `;`, `,`, `|` or spaces) is detected, a header row is
    recognised when its cell above a numeric column is not a number, and CRLF line
    endings, a UTF-8 (or UTF-16) byte order mark and a missing final newline are fine.
    Text columns (dates, labels) are ignored.

    `column` picks the column by header name, or by 0-based position among all the
    file's columns; without a header the columns are named "column 1", "column 2", ...
    With `column=None` the first numeric column that is neither an axis nor constant
    is taken. An axis is a column headed like an index (`index`, `id`, `x`, `time`,
    `date`, ...) or whose values are evenly spaced and monotonic (row numbers, x
    values, seconds). If only axes vary, the first of them is taken (a ramp is still
    a series), unless the file also has a text column: then the values are probably
    written with decimal commas, and a `DataError` says so rather than training on
    row numbers. `csv_columns` lists the candidates for a chooser.
    """
    table = _read_table(path_or_buffer)
    index = _choose_column(table, column)
    values = _column_values(table, index)
    _check_series(values, _where(table, index))
    return values


def csv_columns(path_or_buffer: Source) -> list[str]:
    """Names of the columns that hold numbers, in file order (what `column=` accepts)."""
    table = _read_table(path_or_buffer)
    return [table.names[c] for c in table.numeric]


def timestamp_columns(path_or_buffer: Source) -> list[str]:
    """Names of the columns whose every cell is a date or a time, increasing down the file.

    Those are what `load_timestamps` accepts: a series' time axis. Columns of numbers are
    never taken for one (row numbers, years and seconds are numbers first).
    """
    table = _read_table(path_or_buffer)
    return [table.names[c] for c in _timestamp_columns(table)]


def load_timestamps(path_or_buffer: Source, column: str) -> np.ndarray:
    """The named date/time column, one datetime64[ns] per row of the series; shape (points,).

    ISO 8601 dates and times, and the day-first dates of much of Europe (31.01.2024,
    31/01/2024) are read; times with a UTC offset become UTC. A column that is not a time
    axis (text, a date that does not parse, dates that go back) raises `DataError`.
    """
    table = _read_table(path_or_buffer)
    for c in _timestamp_columns(table):
        if table.names[c] == column:
            return _parse_times([_cell(row, c) for row in table.rows])
    choices = _names(table, _timestamp_columns(table)) or t("data.error.no_time_columns")
    raise DataError(t("data.error.not_time", column=repr(column), columns=choices))


def _timestamp_columns(table: _Table) -> list[int]:
    return [
        c
        for c in range(len(table.names))
        if c not in table.numeric
        and _has_content(table, c)
        and _parse_times([_cell(row, c) for row in table.rows]) is not None
    ]


def _parse_times(cells: list[str]) -> np.ndarray | None:
    """The cells as increasing datetime64[ns] values, or None when they are not that.

    Month-first is tried before day-first: the one that reads every cell as a time that
    never goes back wins, so 31/01 and 01/02 settle it, and a column of junk is no axis.
    """
    import warnings

    import pandas as pd

    if len(cells) < 2 or any(cell.lower() in _MISSING for cell in cells):
        return None
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": then each is guessed
            try:
                parsed = pd.to_datetime(pd.Series(cells), errors="coerce", dayfirst=dayfirst)
            except (ValueError, TypeError, OverflowError):
                continue
        if not pd.api.types.is_datetime64_any_dtype(parsed) or parsed.isna().any():
            continue
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_convert(None)
        values = parsed.to_numpy(dtype="datetime64[ns]")
        if np.all(np.diff(values) > np.timedelta64(0, "ns")):
            return values
    return None


def split(series: np.ndarray, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The leading `train_fraction` of the series and the rest: (n_train,), (n - n_train,).

    Both are views into `series`, not copies.
    """
    _check_fraction(train_fraction)
    cut = split_index(len(series), train_fraction)
    return series[:cut], series[cut:]


def describe(series: np.ndarray, train_fraction: float) -> dict[str, int | float]:
    """Size and basic statistics of a series, plain Python numbers for a UI table.

    Keys: points, train_points, test_points, mean, std (population, ddof=0), min, max.
    """
    train, test = split(series, train_fraction)
    values = np.asarray(series, dtype=np.float64)
    return {
        "points": len(values),
        "train_points": len(train),
        "test_points": len(test),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _check_fraction(train_fraction: float) -> None:
    if isinstance(train_fraction, bool) or not isinstance(train_fraction, numbers.Real):
        raise ConfigError(f"train_fraction must be a number in (0, 1); got {train_fraction!r}")
    if not 0 < train_fraction < 1:
        raise ConfigError(f"train_fraction must be between 0 and 1; got {train_fraction!r}")


# --- reading a CSV -----------------------------------------------------------------------
# The file is split into lines here and tokenised with the csv module rather than read
# with pandas: every row keeps the line number a person sees in an editor, ragged rows and
# blank lines stay visible, and the only exceptions to translate are the csv module's.


@dataclass
class _Table:
    """The file's cells as text: data rows only, with their line numbers as a person sees them."""

    names: list[str]  # one per column
    header: list[str] | None  # the header cells as written, None without a header row
    rows: list[list[str]]  # stripped cells; rows may be shorter than names
    lines: list[int]  # 1-based line in the file of each row
    numeric: list[int]  # positions of the columns that hold mostly numbers


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            return Path(source).read_bytes()
        except FileNotFoundError:
            raise DataError(t("data.error.no_file", source=source)) from None
        except IsADirectoryError:
            raise DataError(t("data.error.folder", source=source)) from None
        except OSError as exc:
            raise DataError(
                t("data.error.unreadable", source=source, reason=exc.strerror or exc)
            ) from None
    if hasattr(source, "read"):
        # Streamlit reruns hand the same UploadedFile back, already read to its end.
        try:
            if hasattr(source, "seek"):
                source.seek(0)
            content = source.read()
        except (OSError, ValueError) as exc:  # ValueError: a closed file
            raise DataError(t("data.error.reread", error=exc)) from None
        if isinstance(content, str):
            return content.encode("utf-8")
        if isinstance(content, (bytes, bytearray, memoryview)):
            return bytes(content)
        raise DataError(t("data.error.read_type", type=type(content).__name__))
    raise DataError(t("data.error.source_type", type=type(source).__name__))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM: Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass  # not really UTF-16: judged as bytes below
    if data.startswith(b"PK\x03\x04"):
        raise DataError(t("data.error.zip"))
    if b"\x00" in data:
        raise DataError(t("data.error.binary"))
    try:
        return data.decode("utf-8-sig")  # drops a UTF-8 byte order mark if there is one
    except UnicodeDecodeError as exc:
        raise DataError(t("data.error.utf8", byte=exc.start)) from None


def _sniff_separator(lines: list[str]) -> str | None:
    """The separator used on every sampled line, `None` for runs of spaces, "" for none."""
    sample = [line for line in lines if line.strip()][:_SNIFF_LINES]
    for sep in _SEPARATORS:
        counts = {line.count(sep) for line in sample}
        if len(counts) == 1 and counts.pop() > 0:
            return sep
    for sep in _SEPARATORS:  # inconsistent counts (quoted cells, ragged rows): most common
        if sum(sep in line for line in sample) > len(sample) // 2:
            return sep
    if all(len(line.split()) > 1 for line in sample):
        return None
    return ""


def _tokenize(lines: list[str], line_numbers: list[int], sep: str | None) -> list[list[str]]:
    if sep is None:
        return [line.split() for line in lines]
    if sep == "":  # one column: a comma inside a cell is content (a decimal comma), not a split
        return [[_unquote(line.strip())] for line in lines]
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=sep)]
    except csv.Error as exc:
        raise DataError(t("data.error.csv", error=exc)) from None
    if len(rows) != len(lines):  # an unclosed quote swallowed the lines after it
        line = next(n for n, text in zip(line_numbers, lines, strict=True) if text.count('"') % 2)
        raise DataError(t("data.error.quote", line=line))
    return rows


# 0,25 or -1.234,5 or 2,5e-3: a number written with a decimal comma (and optional dots
# grouping thousands), as spreadsheets in much of Europe save CSV files.
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+(?:[eE][+-]?\d+)?")


def _read_decimal_commas(rows: list[list[str]], line_numbers: list[int]) -> None:
    """Rewrite, in place, the cells of columns written with decimal commas as plain numbers.

    A column is read as decimal commas when most of its decimal numbers use a comma; a
    number with a decimal point in such a column is ambiguous (0.5 or 5 thousand?) and
    refused by line. A column where commas are the exception is left alone, so its odd
    cells are reported by line like any other bad cell.
    """
    width = max(len(row) for row in rows)
    for c in range(width):
        cells = [_cell(row, c) for row in rows]
        commas = [_DECIMAL_COMMA.fullmatch(cell) is not None for cell in cells]
        points = [
            not comma and "." in cell and _to_float(cell) is not None
            for cell, comma in zip(cells, commas, strict=True)
        ]
        if sum(commas) <= sum(points):
            continue
        if any(points):
            i = points.index(True)
            raise DataError(t("data.error.decimal", line=line_numbers[i], cell=repr(cells[i])))
        for row, comma in zip(rows, commas, strict=True):
            if comma:
                row[c] = row[c].replace(".", "").replace(",", ".")


def _unquote(cell: str) -> str:
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"').strip()
    return cell


def _to_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _is_number(cell: str) -> bool:
    return cell.lower() not in _MISSING and _to_float(cell) is not None


def _cell(row: list[str], c: int) -> str:
    return row[c] if c < len(row) else ""


def _numeric_columns(rows: list[list[str]], width: int) -> list[int]:
    """Columns where most non-missing cells (in the first rows) are numbers."""
    sample = rows[:_SAMPLE_ROWS]
    found = []
    for c in range(width):
        present = [cell for row in sample if (cell := _cell(row, c)).lower() not in _MISSING]
        if present and 2 * sum(_to_float(cell) is not None for cell in present) > len(present):
            found.append(c)
    return found


def _read_table(source: Source) -> _Table:
    text = _decode(_read_bytes(source))
    # Split on \r\n, \r or \n only (str.splitlines also splits on form feeds and the like,
    # which would make the line numbers in messages disagree with an editor's).
    lines = re.split(r"\r\n|\r|\n", text)
    numbered = [(i + 1, line) for i, line in enumerate(lines)]
    while numbered and not numbered[-1][1].strip():
        numbered.pop()  # trailing blank lines, including the final newline's empty rest
    while numbered and not numbered[0][1].strip():
        numbered.pop(0)
    if not numbered:
        raise DataError(t("data.error.empty"))
    if len(numbered) > MAX_POINTS + 1:  # + 1 for a header; cheap early exit for huge files
        _too_long(t("data.error.lines", lines=f"{len(numbered):,}"), len(numbered))

    line_numbers = [n for n, _ in numbered]
    texts = [line for _, line in numbered]
    sep = _sniff_separator(texts)
    rows = _tokenize(texts, line_numbers, sep)
    if sep != ",":  # with ',' as the separator a comma cannot be a decimal mark
        _read_decimal_commas(rows, line_numbers)
    width = max(len(row) for row in rows)

    first, rest = rows[0], rows[1:]
    if not rest:
        return _single_row(first, line_numbers[0])
    numeric_below = _numeric_columns(rest, width)
    # A header row is one whose cell above a numeric column is not a number; a leading
    # date or label cell beside numbers does not make the first row a header.
    has_header = any(
        _cell(first, c).lower() not in _MISSING and not _is_number(_cell(first, c))
        for c in numeric_below
    ) or (not numeric_below and not any(_is_number(cell) for cell in first))
    if not has_header:
        return _Table(
            _column_names(None, width), None, rows, line_numbers, _numeric_columns(rows, width)
        )
    header = [_cell(first, c) for c in range(width)]
    return _Table(_column_names(header, width), header, rest, line_numbers[1:], numeric_below)


def _single_row(row: list[str], line: int) -> _Table:
    numbers = sum(_is_number(cell) for cell in row)
    if numbers == 0:
        shown = ", ".join(repr(cell) for cell in row[:5]) + (", ..." if len(row) > 5 else "")
        raise DataError(t("data.error.header_only", header=shown))
    if len(row) > 1 and 2 * numbers > len(row):
        raise DataError(t("data.error.single_row", values=len(row)))
    return _Table(_column_names(None, len(row)), None, [row], [line], [0])


def _column_names(header: list[str] | None, width: int) -> list[str]:
    names: list[str] = []
    for i in range(width):
        name = (header[i] if header else "") or f"column {i + 1}"
        while name in names:  # duplicated headers: keep every column reachable by name
            name = f"{name} ({i + 1})"
        names.append(name)
    return names


def _listing(table: _Table) -> str:
    if table.numeric:
        return t("data.error.numeric_columns", columns=_names(table, table.numeric))
    return t("data.error.no_numeric_columns")


def _where(table: _Table, c: int) -> str:
    """How messages name the column: only when there is more than one to tell apart."""
    return t("data.error.in_column", column=repr(table.names[c])) if len(table.names) > 1 else ""


def _choose_column(table: _Table, column: str | int | None) -> int:
    width = len(table.names)
    if column is None:
        return _auto_column(table)
    if isinstance(column, bool) or not isinstance(column, (str, int)):
        raise DataError(t("data.error.column_type", column=repr(column)))
    if isinstance(column, int):
        if not 0 <= column < width:
            raise DataError(
                t(
                    "data.error.column_number",
                    column=column,
                    width=width,
                    last=width - 1,
                    listing=_listing(table),
                )
            )
        index = column
    else:
        matches = [c for c, name in enumerate(table.names) if name == column] or [
            c for c, name in enumerate(table.names) if name.casefold() == column.strip().casefold()
        ]
        if not matches:
            raise DataError(
                t("data.error.column_name", column=repr(column), listing=_listing(table))
            )
        index = matches[0]
    if index not in table.numeric:
        raise DataError(
            t("data.error.column_text", column=repr(table.names[index]), listing=_listing(table))
        )
    return index


def _auto_column(table: _Table) -> int:
    if not table.numeric:
        example = next((cell for row in table.rows for cell in row if cell), "")
        raise DataError(t("data.error.no_numbers", example=repr(example)))
    varying = []
    for c in table.numeric:
        values = _try_values(table, c)
        if values is None:
            return c  # unreadable cells: choose it anyway, so the user hears where they are
        if np.ptp(values) == 0:
            continue
        named_axis = table.header is not None and table.header[c].casefold() in _INDEX_NAMES
        if not (named_axis or _is_axis(values)):
            return c
        varying.append(c)
    text = [c for c in range(len(table.names)) if c not in table.numeric and _has_content(table, c)]
    if text:
        # Only an axis has numbers; the series is probably in a text column, e.g. written
        # with decimal commas. Training on row numbers would be silently meaningless.
        example = next(cell for row in table.rows if (cell := _cell(row, text[0])))
        raise DataError(
            t(
                "data.error.axis_only",
                columns=_names(table, table.numeric),
                column=repr(table.names[text[0]]),
                example=repr(example),
            )
        )
    return (varying or table.numeric)[0]  # a ramp is a series; a constant fails its check


def _has_content(table: _Table, c: int) -> bool:
    return any(_cell(row, c) for row in table.rows)


def _names(table: _Table, columns: list[int]) -> str:
    return ", ".join(repr(table.names[c]) for c in columns)


def _is_axis(values: np.ndarray) -> bool:
    """Evenly spaced and monotonic: row numbers, x positions, seconds; not a signal."""
    steps = np.diff(values)
    if len(steps) == 0 or steps[0] == 0:
        return False
    mean_step = steps.mean()
    # 1e-3 relative: printed x values (%.6f) wobble by ~1e-6 around steps of ~1e-2.
    return bool(np.all(np.abs(steps - mean_step) <= 1e-3 * abs(mean_step)))


def _try_values(table: _Table, c: int) -> np.ndarray | None:
    try:
        values = np.array([float(_cell(row, c)) for row in table.rows], dtype=np.float64)
    except ValueError:
        return None
    return values if np.all(np.isfinite(values)) else None


def _column_values(table: _Table, c: int) -> np.ndarray:
    values = _try_values(table, c)
    if values is not None:
        return values
    # Slow path, only to say exactly which lines are wrong.
    where = _where(table, c)
    problems: list[tuple[int, str, str]] = []  # (line, cell, kind)
    for row, line in zip(table.rows, table.lines, strict=True):
        cell = _cell(row, c)
        value = _to_float(cell)
        if cell.lower() in _MISSING or (value is not None and math.isnan(value)):
            problems.append((line, cell, "missing"))
        elif value is None:
            problems.append((line, cell, "text"))
        elif math.isinf(value):
            problems.append((line, cell, "infinite"))
    line, cell, kind = problems[0]
    more = t("data.error.more", count=len(problems) - 1) if len(problems) > 1 else ""
    if kind == "missing":
        what = t("data.error.empty_cell") if not cell else t("data.error.missing", cell=repr(cell))
        raise DataError(t("data.error.missing_line", line=line, what=what, where=where, more=more))
    shown = {"line": line, "cell": repr(cell), "where": where, "more": more}
    if kind == "infinite":
        raise DataError(t("data.error.infinite", **shown))
    raise DataError(t("data.error.not_number", **shown))


def _too_long(what: str, count: int) -> NoReturn:
    every = math.ceil(count / MAX_POINTS)
    raise DataError(t("data.error.too_long", what=what, most=f"{MAX_POINTS:,}", every=every))


def _check_series(values: np.ndarray, where: str) -> None:
    """Reject series that parse but cannot be trained on."""
    if len(values) < MIN_POINTS:
        raise DataError(t("data.error.too_short", points=len(values), least=MIN_POINTS))
    if len(values) > MAX_POINTS:
        _too_long(t("data.error.points", points=f"{len(values):,}"), len(values))
    largest = float(np.max(np.abs(values)))
    if largest > MAX_ABS:
        raise DataError(
            t(
                "data.error.too_large",
                where=where,
                largest=f"{largest:.3g}",
                most=f"{MAX_ABS:.0e}",
                divide=f"{10 ** math.ceil(math.log10(largest)):.0e}",
            )
        )
    if np.ptp(values) == 0:
        raise DataError(t("data.error.constant", where=where, value=f"{values[0]:g}"))
