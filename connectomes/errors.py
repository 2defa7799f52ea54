"""Exceptions raised by the connectome layer.

Every error names the file, column, neuron or parameter at fault so that a
user can fix the input without reading larvasim's source.
"""


class ConnectomeError(Exception):
    """Base class of all larvasim connectome errors."""


class DataNotFoundError(ConnectomeError, FileNotFoundError):
    """The data set could not be found in any of the searched places."""


class ConnectomeDataError(ConnectomeError, ValueError):
    """An input file exists but its content is invalid (names file and place)."""


class ChecksumError(ConnectomeDataError):
    """A file's SHA-256 checksum differs from the published one."""


class SelectionError(ConnectomeError, KeyError):
    """A selection matched no neuron; the message lists close matches."""

    def __str__(self):  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""
