"""What the dashboard's pages compute, without the UI: one module per page, plus the status.

    Overview  -> gru_core.views.overview     Data     -> gru_core.views.data
    Train     -> gru_core.views.train        Gates    -> gru_core.views.gates
    Rollouts  -> gru_core.views.rollouts     Memory   -> gru_core.views.memory
                                             sidebar and every page's run status
                                             -> gru_core.views.status

Pages read widgets and call these functions; everything here takes and returns plain
values (numpy arrays, dataclasses, DataFrames, strings), so it is tested with plain
pytest. Nothing here imports streamlit or draws (figures are in `gru_core.figures`).
"""
