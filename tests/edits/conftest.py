"""The corpus holds model answers and the files they edit, some named test_*.py: data, not tests."""

collect_ignore_glob = ["corpus/*"]
