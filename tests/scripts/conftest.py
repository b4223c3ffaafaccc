"""The files here are PyTorch scripts that tests run (with torch and with leafgrad run), not
test modules: keep pytest (and its doctest collection) from importing them."""

collect_ignore_glob = ["*.py"]
