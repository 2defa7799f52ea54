"""Start numba's CPU target without importing SciPy's linear algebra (issue 16: worker start-up).

When numba first dispatches a jitted function in a process, it loads its CPU
target's registries, among them ``numba.np.arraymath``, which at import time
checks for a BLAS by importing ``scipy.linalg.cython_blas`` (its module-level
``_HAVE_BLAS = _check_blas()``). Importing ``scipy.linalg`` pulls in SciPy's
array-API layer and ``numpy.f2py``: about 0.3 s and 15 MB of a worker's
1.2-1.7 s start-up on the CI machine kind (``python -X importtime``; the
larvasim kernels use no BLAS).

:func:`start_numba_target` imports ``numba.np.arraymath`` with ``scipy.linalg``
hidden, then makes the flag lazy: numba reads it only when it compiles
``np.convolve`` or ``np.correlate``, and the lazy flag then does numba's own
check (importing SciPy), so what numba compiles is unchanged. Where SciPy's
linear algebra is already loaded (a process with Brian2 or pandas' SciPy
users), or numba's module has another layout, it does nothing.
"""
from __future__ import annotations

import sys

__all__ = ["start_numba_target"]


class _LazyBlasFlag:
    """Truthy when numba finds a BLAS (``numba.np.linalg.ensure_blas``), checked at first use."""

    _value = None

    def __bool__(self) -> bool:
        if self._value is None:
            from numba.np.linalg import ensure_blas
            try:
                ensure_blas()
                self._value = True
            except ImportError:
                self._value = False
        return self._value

    def __repr__(self) -> str:
        return f"_LazyBlasFlag({self._value!r})"


def start_numba_target() -> bool:
    """Import numba's array-math registry without SciPy's linear algebra; True when it did.

    Returns
    -------
    bool
        ``True`` when ``numba.np.arraymath`` was imported here with a lazy BLAS
        flag; ``False`` when it was already imported or ``scipy.linalg`` was
        already loaded (nothing to save).
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return False
    sys.modules["scipy.linalg"] = None  # an import of it raises ImportError for the moment
    try:
        import numba.np.arraymath as arraymath
    finally:
        if sys.modules.get("scipy.linalg", 0) is None:
            del sys.modules["scipy.linalg"]
    if not hasattr(arraymath, "_HAVE_BLAS"):
        return False
    arraymath._HAVE_BLAS = _LazyBlasFlag()
    return True
