"""The commission engine: an affiliate's share of each paid invoice of a tenant it referred, held, approved, paid,
and adjusted by refunds, credit notes and disputes. See README "Affiliates"."""
