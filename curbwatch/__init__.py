"""curbwatch: the command line that ties the edge, central and shared contracts together."""

__version__ = "0.1.0"
