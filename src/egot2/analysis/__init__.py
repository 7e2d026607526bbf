"""Analysis: attention over tasks and time, task relations, reports."""
