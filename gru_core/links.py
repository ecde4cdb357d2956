"""Links that carry settings: a link's query parameters as setting values, and back.

The app binds each setting's widget to the URL parameter named after its command-line flag
(`gru_core.config.url_param`), so a link like `/train?hidden=4&lr=0.01` opens with those
settings. A page binds only its own widgets, so a link's settings are also read here, all of
them, when a session opens it; `link_query` writes the settings that differ from their
defaults back as a query, the way the widgets write them. This module knows nothing of
Streamlit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from gru_core.config import (
    MODEL_KINDS,
    ConfigError,
    DataConfig,
    Setting,
    data_params,
    settings,
    url_param,
)

PRIVATE_PARAMS = ("ws",)  # never in a shared link: the workspace id opens one's own runs
_KIND_OF_LABEL = {label: kind for kind, label in MODEL_KINDS.items()}


def lr_text(lr: float) -> str:
    """A learning rate as the slider shows it and the URL holds it: 0.01, 0.0005, 1e-06."""
    return f"{lr:g}"


def train_params() -> dict[str, str]:
    """The Train page's settings in the URL: setting key -> query parameter."""
    return {key: url_param(s.flag, key) for key, s in settings().items()}


def _number(text: str, lo: float, hi: float, integer: bool) -> int | float:
    value = int(text) if integer else float(text)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(text)
    return value


def _integer(lo: object, hi: object) -> bool:
    return isinstance(lo, int) and isinstance(hi, int)


def parse_setting(s: Setting, texts: list[str], choices: Sequence[str] | None = None) -> object:
    """A Train setting's value from its URL text(s); ValueError if it cannot be one.

    `choices` narrows a choice setting's to those available here (the devices).
    """
    if s.widget == "multiselect":  # the widget writes the labels it shows; kinds are read too
        kinds = [_KIND_OF_LABEL.get(t, t) for t in texts]
        if not kinds or any(k not in MODEL_KINDS for k in kinds) or len(set(kinds)) < len(kinds):
            raise ValueError(texts)
        return kinds
    text = texts[-1]
    if s.widget == "toggle":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if s.widget == "text":
        from gru_core.views.train import format_widths, parse_widths

        try:
            return format_widths(parse_widths(text))
        except ConfigError:
            raise ValueError(text) from None
    if s.choices is not None:
        if text not in (s.choices if choices is None else choices):
            raise ValueError(text)
        return text
    lo, hi = s.range
    return _number(text, lo, hi, _integer(lo, hi))


def from_query(
    query: Mapping[str, list[str]], choices: Mapping[str, Sequence[str]] | None = None
) -> tuple[dict, dict, list[str]]:
    """(Train settings by key, DataConfig fields, bad parameters) a link's query names.

    Parameters that name no setting are not looked at; a bad one is left out of the values.
    `choices`: by setting key, the choices available here where they are fewer (devices).
    """
    train, data, bad = {}, {}, []
    every = settings()
    for key, name in train_params().items():
        if query.get(name):
            try:
                narrowed = (choices or {}).get(key)
                train[key] = parse_setting(every[key], list(query[name]), narrowed)
            except ValueError:
                bad.append(name)
    for f in dataclasses.fields(DataConfig):
        name = data_params()[f.name]
        if query.get(name):
            lo, hi = f.metadata["range"]
            try:
                data[f.name] = _number(query[name][-1], lo, hi, f.metadata.get("integer", False))
            except ValueError:
                bad.append(name)
    return train, data, bad


def _texts(s: Setting | None, value: object) -> list[str]:
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, (list, tuple)):
        return [MODEL_KINDS.get(v, str(v)) for v in value]
    if s is not None and s.widget == "lr":
        return [lr_text(value)]
    return [str(value)]


def link_query(
    train: Mapping[str, object],
    train_defaults: Mapping[str, object],
    data: Mapping[str, object],
    data_defaults: Mapping[str, object],
) -> list[tuple[str, str]]:
    """The (parameter, text) pairs of a link: every setting whose value is not its default.

    `train` is keyed like `settings()`, `data` by DataConfig field.
    """
    every = settings()
    pairs = []
    for key, name in train_params().items():
        if key in train and train[key] != train_defaults.get(key):
            pairs += [(name, text) for text in _texts(every[key], train[key])]
    for field, name in data_params().items():
        if field in data and data[field] != data_defaults.get(field):
            pairs += [(name, text) for text in _texts(None, data[field])]
    return pairs
