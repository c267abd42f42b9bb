"""The one error type for bad user input (a spec, a path, a flag, a front.json).

The Python API raises it; the CLI reports it as one line with exit status 2.
"""


class UserError(ValueError):
    """Bad input, with a message of one line that names what is wrong."""
