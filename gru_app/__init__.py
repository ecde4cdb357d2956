"""GRU Lab's Streamlit-only helpers: session state, setting widgets and shared render pieces.

    gru_app.state    the session's data and training job, and the click actions
    gru_app.widgets  a widget for each setting, from its declaration in gru_core.config
    gru_app.render   pieces several pages draw: the run status block, cards, the no-run guard

The computations behind them are in `gru_core.views` (one module per page).
"""
