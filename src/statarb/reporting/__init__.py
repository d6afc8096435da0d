"""Reporting: performance metrics, attribution, HTML tearsheets and SQL over the store."""
