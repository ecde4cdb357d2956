"""Links: the settings a link brought that could not be used, and the Copy link button.

The settings live in the URL already (their widgets are bound to query parameters), so the
link to copy is the page's own address, without the private workspace id.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import urlencode

import streamlit as st

from gru_app import state
from gru_core import links
from gru_core.config import DEFAULT_PRESETS, DataConfig
from gru_core.i18n import t
from gru_core.views import train as train_views


def notice_bad_params() -> None:
    """Once per session: a toast naming the link's settings that were ignored."""
    ss = st.session_state
    if "link_checked" in ss:
        return
    ss["link_checked"] = True
    bad = state.link_settings()[2]
    if bad:
        shown = ", ".join(f"{name}={st.query_params.get_all(name)[-1]}" for name in bad)
        st.toast(t("share.ignored", params=shown), icon=":material/link_off:", duration="long")


# Runs in the page itself (st.html is not an iframe): this page's address with the query made
# here. A page's bound widgets keep only its own settings in the address bar; the link holds all.
_COPY = """
<button class="gru-copy-link" type="button" title="{help}">{label}</button>
<span class="gru-copy-done" style="display:none">{done}</span>
<style>
.gru-copy-link {{ font: inherit; padding: 0.3rem 0.75rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.25); background: white; cursor: pointer; }}
.gru-copy-link:hover {{ border-color: #0072B2; color: #0072B2; }}
.gru-copy-done {{ margin-left: 0.5rem; color: #2e7d32; }}
</style>
<script>
for (const button of document.querySelectorAll(".gru-copy-link")) {{
  button.onclick = async () => {{
    const query = {query};
    const link = window.location.origin + window.location.pathname + (query ? "?" + query : "");
    try {{
      await navigator.clipboard.writeText(link);
    }} catch (err) {{  // no clipboard API (a plain-http address): the old way
      const box = document.createElement("textarea");
      box.value = link;
      document.body.appendChild(box);
      box.select();
      document.execCommand("copy");
      box.remove();
    }}
    const done = button.nextElementSibling;
    done.style.display = "inline";
    setTimeout(() => (done.style.display = "none"), 2000);
  }};
}}
</script>
"""


def current_link_query() -> list[tuple[str, str]]:
    """The session's settings that differ from their defaults, as a link's query pairs.

    Never the workspace id: sharing settings does not share one's runs.
    """
    ss = st.session_state
    task, preset = ss[state.TASK_KEY], ss[state.PRESET_KEY]
    pairs = [] if task == "forecast" else [(state.TASK_KEY, task)]
    if preset != DEFAULT_PRESETS[task]:
        pairs.append((state.PRESET_KEY, preset))
    train = {name: ss[key] for name, key in state.TRAIN_KEYS.items()}
    data = {}
    if ss[state.SOURCE_KEY] == state.SOURCES[0]:  # an uploaded series cannot travel in a link
        data = {name: ss[key] for name, key in state.DATA_KEYS.items()}
        data["train_fraction"] = ss[state.FRACTION_KEY]
    defaults = dataclasses.asdict(DataConfig())
    pairs += links.link_query(train, train_views.preset_settings(preset), data, defaults)
    return [(k, v) for k, v in pairs if k not in links.PRIVATE_PARAMS]


def copy_link_button() -> None:
    """A button that puts a link to this page with its current settings on the clipboard."""
    st.html(
        _COPY.format(
            label=t("share.copy"),
            help=t("share.copy.help"),
            done=t("share.copied"),
            query=json.dumps(urlencode(current_link_query())),
        ),
        unsafe_allow_javascript=True,
    )
