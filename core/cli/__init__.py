"""The ``dyadlab`` command line: one module per subcommand, each light to import.

Every subcommand module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``
and imports its heavy dependencies inside ``run`` so that ``dyadlab --help`` answers instantly.
"""
