"""``LazyRows`` lives in ``dyadlab.core.features.row_ranges`` (the cache's chunked arrays share it); this name
stays for the trainer modules and the bundle's list of torch-free trainer modules."""

from dyadlab.core.features.row_ranges import LazyRows

__all__ = ["LazyRows"]
