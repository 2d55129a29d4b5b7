"""The operator's catalogue for the creators app, in the public schema: content templates, edited by ops. A separate
app because its table must exist only in the public schema: a same-named table in a tenant schema would shadow it
on the tenant's search_path."""
