"""leafgrad's differential fuzzer: random programs run in torch and in leafgrad, compared line by
line (see README.md in this folder)."""
