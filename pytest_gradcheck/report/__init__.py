"""Records, reports, baselines and their renderings (terminal, Markdown, HTML): plain data only."""
