"""django-tenants' PostgreSQL backend, minus the `SET search_path` a request does not need.

django-tenants forgets the connection's search path whenever the code selects a schema, so every request
(which selects the public schema to route, then its tenant's) sends a SET before its first query, even when a
kept connection already has exactly that search path from the previous request for the same tenant. This
backend also remembers what the connection really has (`search_path_on_connection`): set when a SET
succeeds, and forgotten, like django-tenants' own flag, on anything that may undo one (rollback, savepoint
rollback, close). When the wanted search path equals it, no SET is sent. tests/isolation/test_search_path.py
holds it to that.
"""

from django_tenants.postgresql_backend import base as tenants_base


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        self.search_path_on_connection = None
        super().__init__(*args, **kwargs)

    def connect(self):
        self.search_path_on_connection = None
        super().connect()

    def close(self):
        self.search_path_on_connection = None
        super().close()

    def rollback(self):
        self.search_path_on_connection = None
        super().rollback()

    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self.search_path_on_connection = None

    def search_path_forget(self) -> None:
        """After SQL that may set search_path itself (django-tenants' clone_schema() does): the next cursor
        sends the SET again."""
        self.search_path_set_schemas = None
        self.search_path_on_connection = None

    def _handle_search_path(self, cursor=None):
        if (self.search_path_set_schemas is None and self.search_path_on_connection is not None
                and not self._setting_search_path and self.schema_name
                and self._get_cursor_search_paths() == self.search_path_on_connection):
            self.search_path_set_schemas = self.search_path_on_connection
            return
        super()._handle_search_path(cursor)
        if self.search_path_set_schemas is not None:
            self.search_path_on_connection = self.search_path_set_schemas
