"""Feed adapters: one module per feed format, each a pure parse() and a thin fetch()."""
