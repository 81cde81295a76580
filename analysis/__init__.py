"""Vigie: the shared analysis package (no Streamlit or IPython imports here)."""

__version__ = "0.1.0"
