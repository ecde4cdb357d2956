"""GRU Lab's engine: data, models, training, gates, forecasts, figures. Never imports streamlit."""
