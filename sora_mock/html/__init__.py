"""Self-contained HTML: pages, tables and inline SVG with no external assets, for reports."""
