"""Agencies: client workspaces, the client's access grants, the hand-off of agency staff into a client's host,
the agency dashboard and its API. See the README's "Agencies" section."""
