"""``LazyRows``: the array face of the trainer's row-at-a-time tables (stacked cache files, normalised views).

Why: the trainer's inputs are too big to copy into one ndarray (face crops are memory-mapped cache files),
so tables hand out only the rows a batch asks for. What the trainer uses of an array — ``shape``, ``dtype``,
``ndim``, ``len``, indexing with an int, a slice, an int array or a bool mask (a fresh ndarray), and
``np.asarray`` for small tables — lives here once; a subclass sets ``shape``/``dtype`` and reads rows in
``_rows(index)`` for every index but a plain int.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LazyRows:
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, int | np.integer):
            return self._rows(np.array([int(index)]))[0]
        return self._rows(index)

    def _rows(self, index: Any) -> np.ndarray:
        """The rows a slice, an int array or a bool mask selects, as a fresh ndarray."""
        raise NotImplementedError

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[slice(None)]
        return whole if dtype is None else whole.astype(dtype)
