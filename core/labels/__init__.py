"""Label schemes: categorical sets, dimensional scales and keypoint skeletons, defined in TOML.

The shipped defaults live in ``resources/schemes/*.toml`` and are installed into every project; users
can add their own TOML files with ``dyadlab`` or the GUI. Validation happens here, once, so the rest
of the code can trust a scheme's shape.
"""

from dyadlab.core.labels.schemes import (
    THESIS_4CLASS,
    install_default_schemes,
    load_scheme_file,
    map_label,
    shipped_scheme_files,
    validate_scheme,
)

__all__ = ["THESIS_4CLASS", "install_default_schemes", "load_scheme_file", "map_label",
           "shipped_scheme_files", "validate_scheme"]
