import io
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from gru_core.config import MAX_POINTS, ConfigError, DataConfig
from gru_core.data import (
    MAX_ABS,
    MIN_POINTS,
    DataError,
    csv_columns,
    describe,
    load_series,
    make_sine,
    save_series,
    split,
)

ASSET = Path(__file__).resolve().parent.parent / "assets" / "sindata_1000.csv"
WAVE = np.round(np.sin(np.linspace(0, 12, 100)), 6)  # 100 varying 6-decimal values


def lines(values=WAVE) -> list[str]:
    return [f"{v:.6f}" for v in values]


def csv(rows: list[str], newline: str = "\n", final_newline: bool = True) -> bytes:
    return (newline.join(rows) + (newline if final_newline else "")).encode()


class Upload(io.BytesIO):
    """Like Streamlit's UploadedFile: a BytesIO with a name, often already read."""

    def __init__(self, data: bytes, name: str = "series.csv") -> None:
        super().__init__(data)
        self.name = name


# --- make_sine -------------------------------------------------------------------------


def test_make_sine_default_is_the_tutorial_series(tutorial_series):
    series = make_sine()
    assert series.shape == (1000,) and series.dtype == np.float64
    assert np.array_equal(series, tutorial_series)


def test_make_sine_same_seed_same_values_different_seed_different():
    cfg = DataConfig(points=300, periods=3.0, noise=0.2, seed=7)
    assert np.array_equal(make_sine(cfg), make_sine(cfg))
    assert not np.array_equal(make_sine(cfg), make_sine(DataConfig(300, 3.0, 0.2, seed=8)))


def test_make_sine_leaves_numpy_global_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    make_sine(DataConfig(seed=5))
    assert np.random.random() == expected


def test_make_sine_follows_the_config():
    series = make_sine(DataConfig(points=500, periods=2.0, noise=0.0))
    assert series.shape == (500,)
    clean = np.sin(np.linspace(0, 4 * np.pi, 500))
    assert np.max(np.abs(series - clean)) <= 5e-7  # only the 6-decimal rounding remains
    assert np.array_equal(series, [float(f"{v:.6f}") for v in series])


# --- save_series: byte identity with the tutorial's file --------------------------------


def test_shipped_asset_is_the_tutorials_file(tutorial_csv):
    assert ASSET.read_bytes() == tutorial_csv


def test_save_series_of_default_sine_is_byte_identical_to_the_tutorial(tutorial_csv, tmp_path):
    buffer = io.BytesIO()
    save_series(make_sine(), buffer)
    assert buffer.getvalue() == tutorial_csv == ASSET.read_bytes()
    save_series(make_sine(), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == tutorial_csv


def test_save_then_load_round_trips(tmp_path):
    series = make_sine(DataConfig(points=200, seed=3))
    save_series(series, tmp_path / "s.csv")
    assert np.array_equal(load_series(tmp_path / "s.csv"), series)


def test_save_series_rejects_2d():
    with pytest.raises(DataError, match="1-D"):
        save_series(np.zeros((10, 2)), io.BytesIO())


# --- load_series: what it accepts ------------------------------------------------------


def test_load_asset_by_str_path_path_and_bytes(tutorial_series):
    for source in (str(ASSET), ASSET, ASSET.read_bytes()):
        series = load_series(source)
        assert series.dtype == np.float64 and series.ndim == 1
        assert np.array_equal(series, tutorial_series)


@pytest.mark.parametrize(
    "data",
    [
        csv(lines()),  # no header
        csv(["value", *lines()]),  # header
        csv(["value", *lines()], newline="\r\n"),  # CRLF
        csv(["value", *lines()], final_newline=False),
        csv(lines(), newline="\r\n", final_newline=False),
        b"\xef\xbb\xbf" + csv(["value", *lines()]),  # UTF-8 byte order mark
        "\n".join(["value", *lines()]).encode("utf-16"),  # UTF-16 with BOM
        csv(["value", *lines(), "", "", ""]),  # trailing blank lines
        csv(["", "", "value", *lines()]),  # leading blank lines
        csv(["value", *[f'"{v}"' for v in lines()]]),  # quoted values
    ],
    ids=[
        "no-header",
        "header",
        "crlf",
        "no-final-newline",
        "crlf-no-header-no-final-newline",
        "utf8-bom",
        "utf16",
        "trailing-blank-lines",
        "leading-blank-lines",
        "quoted",
    ],
)
def test_load_single_column_variants(data):
    assert np.array_equal(load_series(data), WAVE)


def test_bom_does_not_stick_to_the_header_name():
    assert csv_columns(b"\xef\xbb\xbf" + csv(["value", *lines()])) == ["value"]


def test_load_uploaded_file_even_after_it_was_read():
    upload = Upload(csv(["value", *lines()]))
    upload.read()  # a previous Streamlit run left it at its end
    assert np.array_equal(load_series(upload), WAVE)
    assert csv_columns(upload) == ["value"]
    assert np.array_equal(load_series(upload), WAVE)


def test_load_text_file_object():
    assert np.array_equal(load_series(io.StringIO("\n".join(lines()))), WAVE)


def test_timestamp_column_beside_the_values_with_and_without_header():
    stamps = [f"2024-01-01 {i // 60:02d}:{i % 60:02d}:00" for i in range(len(WAVE))]
    rows = [f"{t},{v}" for t, v in zip(stamps, lines(), strict=True)]
    assert np.array_equal(load_series(csv(rows)), WAVE)
    assert np.array_equal(load_series(csv(["time,value", *rows])), WAVE)
    assert csv_columns(csv(["time,value", *rows])) == ["value"]
    assert csv_columns(csv(rows)) == ["column 2"]


@pytest.mark.parametrize("sep", [";", "\t", " ", "|"])
def test_other_separators(sep):
    other = WAVE[::-1]
    rows = [f"{a:.6f}{sep}{b:.6f}" for a, b in zip(WAVE, other, strict=True)]
    data = csv([f"a{sep}b", *rows])
    assert csv_columns(data) == ["a", "b"]
    assert np.array_equal(load_series(data), WAVE)
    assert np.array_equal(load_series(data, column="b"), other)


def test_column_choice_by_name_and_by_position():
    rows = [f"{i},day{i},{v:.6f},{2 * v:.6f}" for i, v in enumerate(WAVE)]
    data = csv(["index,label,signal,double", *rows])
    assert csv_columns(data) == ["index", "signal", "double"]
    assert np.array_equal(load_series(data), WAVE)  # index skipped, label is text
    assert np.array_equal(load_series(data, column="double"), 2 * WAVE)
    assert np.array_equal(load_series(data, column=3), 2 * WAVE)
    assert np.array_equal(load_series(data, column=" Signal "), WAVE)  # forgiving fallback
    assert np.array_equal(load_series(data, column=0), np.arange(len(WAVE)))


def test_auto_choice_skips_axes_and_constant_columns():
    x = np.linspace(0, 12, len(WAVE))
    rows = [f"{i},{a:.6f},1.0,{v}" for i, (a, v) in enumerate(zip(x, lines(), strict=True))]
    assert np.array_equal(load_series(csv(rows)), WAVE)  # headerless: by spacing alone
    assert np.array_equal(load_series(csv(["t,x,unit,y", *rows])), WAVE)


def test_multi_column_messages_name_the_column():
    rows = [f"{i},{v},1e30" for i, v in enumerate(lines())]
    with pytest.raises(DataError, match="values in column 'big' as large as 1e\\+30"):
        load_series(csv(["i,value,big", *rows]), column="big")
    rows[4] = "4,oops,1e30"
    with pytest.raises(DataError, match="line 6: 'oops' in column 'value' is not a number"):
        load_series(csv(["i,value,big", *rows]))
    rows = [f"{i},{v},7" for i, v in enumerate(lines())]
    with pytest.raises(DataError, match="all values in column 'c' are equal \\(7\\)"):
        load_series(csv(["a,b,c", *rows]), column="c")


def test_a_european_csv_with_decimal_commas_loads():
    # As a German or French spreadsheet saves it: ';' between cells, ',' as the decimal mark.
    rows = [f"{i};{v}".replace(".", ",") for i, v in enumerate(lines())]
    expected = np.array([float(v) for v in lines()])
    assert np.array_equal(load_series(csv(["Nr;Wert", *rows])), expected)
    assert np.array_equal(load_series(csv(rows)), expected)  # no header: the index is skipped
    assert csv_columns(csv(["Nr;Wert", *rows])) == ["Nr", "Wert"]


def test_decimal_commas_with_thousands_dots_and_exponents_are_read_as_numbers():
    cells = ["1.234,5", "-2,25", "0,5e-3", "12", "1.000.000,0", "3,75", "-0,125"]
    rows = ["Datum;Wert"] + [f"2024-01-{i + 1:02d};{cell}" for i, cell in enumerate(cells * 9)]
    series = load_series(csv(rows))
    worked = [1234.5, -2.25, 0.0005, 12.0, 1_000_000.0, 3.75, -0.125]  # by hand
    assert series.tolist() == worked * 9


def test_a_column_mixing_decimal_commas_and_points_is_not_guessed():
    rows = [f"{i};{v}" for i, v in enumerate(lines())]
    rows[5] = rows[5].replace(".", ",")  # one cell with a comma among points
    with pytest.raises(DataError, match="line 6: .* is not a number"):
        load_series(csv(rows), column=1)
    tabbed = [f"{i}\t{v}".replace(".", ",") for i, v in enumerate(lines())]
    tabbed[7] = tabbed[7].replace(",", ".")  # and one point among commas
    with pytest.raises(DataError, match="line 8: '.*' has a decimal point, but the column"):
        load_series(csv(tabbed), column=1)


def test_a_ramp_alone_is_still_a_series():
    assert np.array_equal(load_series(csv([str(i) for i in range(60)])), np.arange(60.0))


def test_unnamed_pandas_index_column_is_skipped():
    rows = [f"{i},{v}" for i, v in enumerate(lines())]
    assert np.array_equal(load_series(csv([",value", *rows])), WAVE)


def test_limits_are_inclusive():
    assert len(load_series(csv(lines(WAVE[:MIN_POINTS])))) == MIN_POINTS
    peak = np.append(WAVE, -1.0) * MAX_ABS
    assert np.max(np.abs(load_series(csv(lines(peak))))) == MAX_ABS


def test_max_points_loads():
    values = np.tile(WAVE, MAX_POINTS // len(WAVE))
    assert len(load_series(csv(lines(values)))) == MAX_POINTS


# --- load_series: what it refuses, and how it says so ----------------------------------


def png_bytes() -> bytes:
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = b"IHDR" + (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00"
    return header + len(ihdr[4:]).to_bytes(4, "big") + ihdr + zlib.crc32(ihdr).to_bytes(4, "big")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\r\n  \n", "empty"),
        (b"value\n", "only a header row \\('value'\\) and no values"),
        (b"date,value\r\n\r\n", "only a header row \\('date', 'value'\\)"),
        (b"hello\nworld\nfoo\n", "no column of numbers.*'world'"),
        (b"name,city\nann,rome\nbob,oslo\n", "no column of numbers"),
        (png_bytes(), "binary"),
        (b"PK\x03\x04" + bytes(range(40)), "Excel"),
        ("temp \xb0C\n1.5\n2.5\n".encode("latin-1"), "not UTF-8 text"),
        (bytes([0x81, 0xFE, 0x80, 0x90]) * 20, "not UTF-8 text"),
        (csv(lines(WAVE[:10])), "has 10 point\\(s\\); it needs at least 50"),
        (csv(["value", *lines(WAVE[: MIN_POINTS - 1])]), "49 point\\(s\\).*at least 50"),
        (b"1.5\n", "1 point\\(s\\)"),
        (b",".join(lines(WAVE)[i].encode() for i in range(60)), "single row of 60 values"),
        (csv(["value", *["3.25"] * 80]), "all values are equal \\(3.25\\) — nothing to learn"),
        (csv(lines(WAVE * 1e30)), "too large to train on stably.*1e\\+06.*rescale"),
        (csv(lines(WAVE * 2 * MAX_ABS)), "too large to train on stably"),
        (csv(["a,b", '"1.5,2', *[f"{v},{v}" for v in lines()]]), 'line 2 opens a quote \\("\\)'),
    ],
    ids=[
        "empty",
        "blank-lines-only",
        "header-only",
        "header-only-two-columns",
        "only-words",
        "only-text-columns",
        "png",
        "xlsx",
        "latin-1",
        "junk-bytes",
        "too-few",
        "too-few-with-header",
        "one-value",
        "values-in-one-row",
        "constant",
        "huge-values",
        "just-over-max-abs",
        "unclosed-quote",
    ],
)
def test_unusable_files_raise_data_error_saying_why(data, message):
    with pytest.raises(DataError, match=message):
        load_series(data)


def with_cell(cell: str, at: int = 5, header: bool = True) -> bytes:
    rows = lines()
    rows[at] = cell
    return csv(["value", *rows] if header else rows)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (with_cell(""), "line 7 has an empty cell; fill in"),
        (with_cell("", header=False), "line 6 has an empty cell; fill"),
        (with_cell("nan"), "line 7 has a missing value \\('nan'\\)"),
        (with_cell("NA"), "line 7 has a missing value \\('NA'\\)"),
        (with_cell("inf"), "line 7 holds an infinite value \\('inf'\\)"),
        (with_cell("-1e400"), "line 7 holds an infinite value"),
        (with_cell("abc"), "line 7: 'abc' is not a number"),
        (with_cell("1,5").replace(b"\n", b"\r\n"), "line 7: '1,5'.*is not a number"),
    ],
    ids=["empty", "empty-no-header", "nan", "NA", "inf", "overflow", "text", "decimal-comma"],
)
def test_bad_cells_are_reported_by_line(data, message):
    with pytest.raises(DataError, match=message):
        load_series(data)


def test_bad_cell_message_counts_the_other_bad_lines():
    rows = lines()
    rows[3] = rows[10] = rows[20] = ""
    with pytest.raises(DataError, match="line 4 has an empty cell.*and 2 more bad line"):
        load_series(csv(rows))


def test_blank_line_inside_the_values_is_a_missing_value():
    rows = ["value", *lines()]
    rows.insert(30, "")
    with pytest.raises(DataError, match="line 31 has an empty cell"):
        load_series(csv(rows, newline="\r\n"))


def test_missing_value_beside_a_timestamp():
    rows = [f"2024-01-{i % 28 + 1:02d},{v}" for i, v in enumerate(lines())]
    rows[40] = "2024-01-13,"
    with pytest.raises(DataError, match="line 42 has an empty cell in column 'value'"):
        load_series(csv(["date,value", *rows]))


def test_too_many_points():
    data = csv(lines(np.tile(WAVE, MAX_POINTS // len(WAVE) + 1)))
    expected = f"{MAX_POINTS + len(WAVE):,} (lines|points).*limit is {MAX_POINTS:,}.*downsample"
    with pytest.raises(DataError, match=expected):
        load_series(data)


def test_one_point_too_many():
    values = np.tile(WAVE, MAX_POINTS // len(WAVE))
    with pytest.raises(DataError, match=f"the series has {MAX_POINTS + 1:,} points"):
        load_series(csv([*lines(values), "0.5"]))  # exactly MAX_POINTS + 1 lines
    with pytest.raises(DataError, match=f"the file has {MAX_POINTS + 2:,} lines"):
        load_series(csv(["value", *lines(values), "0.5"]))


def test_chosen_column_that_does_not_exist_lists_the_available_ones():
    rows = [f"2024-01-{i % 28 + 1:02d},{v},{v}" for i, v in enumerate(lines())]
    data = csv(["date,a,b", *rows])
    with pytest.raises(DataError, match="no column named 'c'; columns with numbers: 'a', 'b'"):
        load_series(data, column="c")
    with pytest.raises(DataError, match="no column 3: the file has 3 column.*'a', 'b'"):
        load_series(data, column=3)
    with pytest.raises(DataError, match="no column -1"):
        load_series(data, column=-1)
    with pytest.raises(DataError, match="column 'date' does not hold numbers.*'a', 'b'"):
        load_series(data, column="date")
    with pytest.raises(DataError, match="column must be a name or a 0-based position"):
        load_series(data, column=True)


def closed_file() -> io.BytesIO:
    upload = Upload(csv(lines()))
    upload.close()
    return upload


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/no/such/file.csv", "no such file"),
        (Path(__file__).parent, "is a folder"),
        (42, "cannot read a series from a int"),
        (closed_file(), "cannot read the file"),
    ],
)
def test_bad_sources(source, message):
    with pytest.raises(DataError, match=message):
        load_series(source)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00",
        b"\xff\xfe\x00",
        b"\xef\xbb\xbf",
        b'"',
        b'""""',
        b",,,\n,,,\n",
        b";;\n1;2\n",
        b"1e5\n" * 3,
        b"\r\r\r",
        b"a,b\n1\n2,3,4,5\n",
        b"nan\n" * 100,
        "\u2028\x0c".encode() * 10,
        bytes(range(1, 256)),
    ],
)
def test_junk_only_ever_raises_data_error(data):
    """No pandas, numpy, csv or codec exception escapes; every message is a sentence."""
    for call in (load_series, csv_columns):
        try:
            call(data)
        except DataError as error:
            assert re.match(r"[a-z]", str(error)) and len(str(error)) > 20
        except Exception as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{call.__name__}({data!r}) raised {type(error).__name__}: {error}")


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


# --- split and describe ----------------------------------------------------------------


def test_split_uses_the_train_fraction(tutorial_series):
    train, test = split(tutorial_series, 0.8)
    assert train.shape == (800,) and test.shape == (200,)
    assert np.array_equal(np.concatenate([train, test]), tutorial_series)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5, True, "0.8", None])
def test_split_rejects_fractions_outside_0_1(fraction):
    with pytest.raises(ConfigError, match="train_fraction"):
        split(WAVE, fraction)


def test_describe():
    stats = describe(WAVE, 0.75)
    assert stats == {
        "points": 100,
        "train_points": 75,
        "test_points": 25,
        "mean": pytest.approx(WAVE.mean()),
        "std": pytest.approx(WAVE.std()),
        "min": WAVE.min(),
        "max": WAVE.max(),
    }
    assert all(type(v) in (int, float) for v in stats.values())


# --- timestamps --------------------------------------------------------------------------


def _dated(dates: list[str], sep: str = ",", header: str = "date") -> bytes:
    rows = "".join(f"{d}{sep}{np.sin(i / 3):.4f}\n" for i, d in enumerate(dates))
    return f"{header}{sep}value\n{rows}".encode()


def _days(n: int, start: str = "2024-01-30") -> np.ndarray:
    return np.arange(n) + np.datetime64(start, "D")


def test_iso_dates_are_the_time_axis_one_per_value():
    days = _days(60)
    content = _dated([str(d) for d in days])
    from gru_core.data import load_timestamps, timestamp_columns

    assert timestamp_columns(content) == ["date"]
    times = load_timestamps(content, "date")
    assert times.dtype == np.dtype("datetime64[ns]") and len(times) == len(load_series(content))
    np.testing.assert_array_equal(times, days.astype("datetime64[ns]"))


def test_european_day_first_dates_are_read_day_first():
    from gru_core.data import load_timestamps

    days = _days(60)  # 30.01.2024 ... : a day above 12 settles the order
    dotted = [f"{d.item():%d.%m.%Y}" for d in days]
    slashed = [f"{d.item():%d/%m/%Y}" for d in days]
    for content in (_dated(dotted, ";", "Datum"), _dated(slashed, ",", "Datum")):
        np.testing.assert_array_equal(
            load_timestamps(content, "Datum"), days.astype("datetime64[ns]")
        )
    # ... and with decimal commas in the values, as such files are saved
    euro = "Datum;Wert\n" + "".join(f"{d};{i % 7},5\n" for i, d in enumerate(dotted))
    assert load_series(euro.encode())[:2].tolist() == [0.5, 1.5]
    assert load_timestamps(euro.encode(), "Datum")[1] == np.datetime64("2024-01-31")


def test_times_of_day_with_an_offset_become_utc():
    from gru_core.data import load_timestamps

    stamps = [f"2024-03-0{1 + h // 24}T{h % 24:02d}:30:00+01:00" for h in range(60)]
    times = load_timestamps(_dated(stamps, header="t"), "t")
    assert times[0] == np.datetime64("2024-02-29T23:30:00")
    assert np.all(np.diff(times) == np.timedelta64(1, "h"))


def test_a_file_without_timestamps_has_none():
    from gru_core.data import timestamp_columns

    assert timestamp_columns(b"".join(f"{np.sin(i):.4f}\n".encode() for i in range(60))) == []
    numbered = "t,value\n" + "".join(f"{i},{np.sin(i):.4f}\n" for i in range(60))
    assert timestamp_columns(numbered.encode()) == []  # numbers are never a date axis


def test_columns_that_are_not_a_time_axis_are_refused():
    from gru_core.data import load_timestamps, timestamp_columns

    days = [str(d) for d in _days(60)]
    labels = _dated([f"item {i}" for i in range(60)], header="name")
    junk = _dated(days[:30] + ["soon"] + days[31:])
    backwards = _dated(days[:30] + days[:30])
    for content in (labels, junk, backwards):
        assert timestamp_columns(content) == []
    with pytest.raises(DataError, match="'date' is not a date or time column; choose one of none"):
        load_timestamps(junk, "date")
    # the series itself still loads: the text column is only not an axis
    assert len(load_series(junk)) == 60
