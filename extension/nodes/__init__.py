"""The node types of docs/design.md §5, each a descriptor and a function (see `extension.registry`)."""
