"""The errors the demos package reports to people, as opposed to bugs.

The CLI prints any of these as one line on stderr and exits with status 2. demos.runtime
defines its own BundleError and BadImage (it must stay self-contained for Space folders);
the CLI treats those the same way.
"""


class DemosError(Exception):
    """A problem the user can fix; the message says where, what, and what to do."""
