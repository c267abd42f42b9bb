"""Keep freed memory in the process heap during long chunked scans.

Why this exists: the exhaustive ULP check (``verify.ulp_check_function``)
walks up to ~2^32 values in chunks of a few MiB, allocating and freeing
arrays of the same sizes for every chunk.  By default glibc serves such
arrays with mmap and returns each one to the OS when it is freed, so the next
chunk page-faults it back in (measured: ~1e6 page faults per 1.6e7 points,
4-7x slower).  ``keep_freed_memory`` raises glibc's mmap and trim thresholds
once, process-wide, so those arrays come from the heap and stay there.
"""
from __future__ import annotations

_TUNED = False


def keep_freed_memory() -> None:
    """Have glibc keep freed chunk buffers (process-wide, once): arrays below
    32 MiB then come from the heap, which keeps up to 128 MiB free.  A no-op
    where the C library has no mallopt."""
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass
