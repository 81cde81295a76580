"""Vigie's Streamlit app: a router, one cached data-access module, shared widgets, thin pages."""
