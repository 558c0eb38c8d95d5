"""The node types of DESIGN.md §5, each a descriptor plus its function (see `extension.registry`)."""
