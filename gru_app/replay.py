"""The replay control: an epoch scrubber, Play/Pause and a speed, shared by every page that
draws a run's models (Train, Gates, Rollouts, Memory).

The chosen epoch lives in session state, so it stays when the page changes. While it
follows the latest epoch (the default, and after the scrubber is dragged to the end),
pages show the run as it is now; otherwise `shown(snap)` is the run as it was at that
epoch (`Snapshot.at_epoch`). Play advances one kept epoch per tick, each tick a rerun of
the whole page, so the scrubber, the charts and the loss marker move together.
"""

from __future__ import annotations

import time

import streamlit as st

from gru_app import layout, state
from gru_core.i18n import t
from gru_core.job import Snapshot

EPOCH_KEY = "replay_epoch"  # the chosen epoch, kept across pages
SCRUBBER_KEY = "replay_scrubber"  # the scrubber's own key, set from EPOCH_KEY on each draw
FOLLOW_KEY = "replay_follow"  # True: show the latest epoch, whatever it is
PLAYING_KEY = "replay_playing"
SPEED_KEY = "replay_speed"  # kept epochs shown per second while playing
TICK_KEY = "replay_tick"  # when Play last advanced (time.monotonic())
SPEEDS = (1, 2, 4)


def _ss():
    ss = st.session_state
    ss.setdefault(FOLLOW_KEY, True)
    ss.setdefault(PLAYING_KEY, False)
    ss.setdefault(SPEED_KEY, SPEEDS[1])
    return ss


def _nearest(epochs: list[int], epoch: int | None) -> int:
    """The kept epoch at or before `epoch` (the first when none is)."""
    if epoch is None:
        return epochs[-1]
    earlier = [e for e in epochs if e <= epoch]
    return earlier[-1] if earlier else epochs[0]


def chosen_epoch(snap: Snapshot | None) -> int | None:
    """The epoch the pages show `snap` at; None while they follow its latest epoch."""
    ss = _ss()
    # While a run trains the pages follow it; replay is for a run that has stopped or ended.
    if snap is None or snap.running or ss[FOLLOW_KEY] or ss.get(EPOCH_KEY) is None:
        return None
    epochs = snap.replay_epochs()
    if not epochs:
        return None
    epoch = _nearest(epochs, ss[EPOCH_KEY])
    return None if epoch >= snap.epoch else epoch


def shown(snap: Snapshot | None) -> Snapshot | None:
    """`snap` as it was at the chosen epoch (itself while the pages follow the latest)."""
    epoch = chosen_epoch(snap)
    return snap if epoch is None else snap.at_epoch(epoch)


def _scrubbed() -> None:
    ss = _ss()
    ss[EPOCH_KEY] = ss[SCRUBBER_KEY]
    ss[PLAYING_KEY] = False
    ss[FOLLOW_KEY] = ss[EPOCH_KEY] == ss.get("replay_last")


def _play(epochs: list[int]) -> None:
    ss = _ss()
    if ss[PLAYING_KEY]:
        ss[PLAYING_KEY] = False
        return
    if ss[FOLLOW_KEY] or ss.get(EPOCH_KEY) in (None, epochs[-1]):
        ss[EPOCH_KEY] = epochs[0]  # from the end: play again from the start
    ss[FOLLOW_KEY] = False
    ss[PLAYING_KEY] = True
    ss[TICK_KEY] = time.monotonic()


def _advance(epochs: list[int]) -> None:
    """One step of Play: the next kept epoch; at the last one, Play stops there."""
    ss = _ss()
    later = [e for e in epochs if e > ss[EPOCH_KEY]]
    ss[EPOCH_KEY] = later[0] if later else epochs[-1]
    if len(later) <= 1:
        ss[PLAYING_KEY] = False
        ss[FOLLOW_KEY] = True
    ss[TICK_KEY] = time.monotonic()


def control(snap: Snapshot | None, where: str) -> None:
    """The scrubber, Play/Pause and speed for `snap`'s kept epochs (`where`: a key prefix
    unique on the page; the chosen epoch itself is shared by every page)."""
    ss = _ss()
    # Not while the run trains: the scrubber's epochs would be those of the last full redraw,
    # and a redraw the browser had not yet caught up with could send back its old epoch as a
    # choice, pinning the live chart to it.
    epochs = [] if snap is None or snap.running else snap.replay_epochs()
    if len(epochs) < 2:
        return
    ss["replay_last"] = epochs[-1]
    ss[EPOCH_KEY] = epochs[-1] if ss[FOLLOW_KEY] else _nearest(epochs, ss.get(EPOCH_KEY))
    # A widget's value set in a run that does not draw it (Play's ticks) would be overwritten
    # by the browser's: the chosen epoch lives in its own key and is handed to the scrubber here.
    ss[SCRUBBER_KEY] = ss[EPOCH_KEY]
    playing = ss[PLAYING_KEY]
    scrub, play, speed = layout.columns(
        [6, 1.5, 1.5], key=f"{where}_replay_row", min_width="7rem", vertical_alignment="bottom"
    )
    scrub.select_slider(
        t("replay.epoch"),
        epochs,
        key=SCRUBBER_KEY,
        on_change=_scrubbed,
        help=t("replay.epoch.help", kept=len(epochs), epochs=snap.epochs),
    )
    play.button(
        t("replay.pause") if playing else t("replay.play"),
        key=f"{where}_replay_play",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=_play,
        args=(epochs,),
        width="stretch",
        help=t("replay.play.help"),
    )
    speed.selectbox(
        t("replay.speed"),
        SPEEDS,
        key=state.translated(SPEED_KEY),
        format_func=lambda n: t("replay.speed.value", n=n),
        help=t("replay.speed.help"),
    )
    if playing:
        _ticker(epochs)


def _ticker(epochs: list[int]) -> None:
    interval = 1 / _ss()[SPEED_KEY]

    @st.fragment(run_every=interval)
    def tick() -> None:
        ss = _ss()
        # The fragment also runs with the page itself: only a timer's run, one interval after
        # the last step, moves on (and reruns the page, so every view shows the new epoch).
        if ss[PLAYING_KEY] and time.monotonic() - ss.get(TICK_KEY, 0.0) >= 0.9 * interval:
            _advance(epochs)
            st.rerun()

    tick()
