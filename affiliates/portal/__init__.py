"""The affiliate portal on the public host: an approved affiliate's own figures, commissions, payouts, links and
promotion code. Every read takes the signed-in affiliate; no other affiliate's row is reachable from it."""
