"""What a reader sees: page helpers, tables, plots, offline views, explorers and the summary."""
