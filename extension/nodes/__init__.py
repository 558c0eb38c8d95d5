"""The node types of DESIGN.md §5, each a descriptor and a function (see `extension.registry`)."""
