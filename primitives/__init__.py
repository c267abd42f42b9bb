"""Number formats, the op registry and the program interpreter."""
