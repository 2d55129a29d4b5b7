"""The statements of the revenue snapshot: one set-based statement per table, so that a day over 10,000
subscriptions costs a handful of queries, not one per subscription.

A subscription's state at an instant is the `after` of its last history entry (SubscriptionEvent) written before
that instant. Every entry's `after` carries the status, price code, seats and current period start
(billing.subscriptions.services and the billing run write them); the "started" entry is written when the
subscription is created, so one whose "started" entry is later did not exist yet. The row's `created_at` is its
anchor (an interval change moves it), not its creation, so it decides only for a subscription written without
history (imported): that one stood as its first later entry's `before` says, or as its row says. One that ended
(`ended_at`) before the instant is over, even if the run that recorded it came later."""

# The states at %(at)s of every subscription created before it, with their MRR: the price's fixed amount plus its
# seats beyond those included, after a repeating or forever coupon that discounts the current period (a "once"
# coupon is a one-off, not recurring revenue), divided by the interval's months; 0 unless active or past due.
# A repeating coupon's redemption ends when the invoice of its last period is issued, at that period's start:
# the period is still discounted, hence `ended_at >= period_start`.
STATES_AT = """
SELECT s.id AS subscription_id, s.tenant_id, price.plan_id, price.id AS price_id, price.currency,
       state.status, state.quantity,
       CASE WHEN state.status IN ('active', 'past_due') THEN round(
           CASE WHEN discount.percent_off IS NOT NULL
                THEN recurring.amount * (100 - discount.percent_off) / 100
                WHEN discount.amount_off IS NOT NULL AND discount.currency = price.currency
                THEN greatest(recurring.amount - discount.amount_off, 0)
                ELSE recurring.amount END
           / CASE price.interval WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 ELSE 1 END, 6)
       ELSE 0 END AS mrr
FROM billing_subscription AS s
LEFT JOIN LATERAL (
    SELECT e.after AS entry FROM billing_subscriptionevent AS e
    WHERE e.subscription_id = s.id AND e.created_at < %(at)s AND e.after ? 'status'
    ORDER BY e.created_at DESC, e.id DESC LIMIT 1
) AS last ON true
LEFT JOIN LATERAL (
    SELECT e.before AS entry FROM billing_subscriptionevent AS e
    WHERE last.entry IS NULL AND e.subscription_id = s.id AND e.created_at >= %(at)s AND e.before ? 'status'
    ORDER BY e.created_at, e.id LIMIT 1
) AS later ON true
-- OFFSET 0 keeps the planner from inlining the entry into every expression that reads it (one lookup each).
CROSS JOIN LATERAL (SELECT coalesce(last.entry, later.entry) AS entry OFFSET 0) AS history
LEFT JOIN billing_price AS entry_price ON entry_price.code = history.entry ->> 'price'
CROSS JOIN LATERAL (
    SELECT coalesce(history.entry ->> 'status', s.status) AS status,
           coalesce((history.entry ->> 'quantity')::integer, s.quantity) AS quantity,
           coalesce((history.entry ->> 'current_period_start')::timestamptz, s.current_period_start) AS period_start,
           coalesce(entry_price.id, s.price_id) AS price_id
) AS state
JOIN billing_price AS price ON price.id = state.price_id
CROSS JOIN LATERAL (
    SELECT price.fixed_amount + price.per_seat_amount * greatest(state.quantity - price.included_seats, 0) AS amount
) AS recurring
LEFT JOIN LATERAL (
    SELECT coupon.percent_off, coupon.amount_off, coupon.currency
    FROM billing_couponredemption AS redemption
    JOIN billing_coupon AS coupon ON coupon.id = redemption.coupon_id
    WHERE redemption.subscription_id = s.id AND redemption.redeemed_at < %(at)s
      AND coupon.duration IN ('repeating', 'forever')
      AND (redemption.ended_at IS NULL OR redemption.ended_at >= state.period_start)
      AND (NOT EXISTS (SELECT 1 FROM billing_coupon_plans AS restricted WHERE restricted.coupon_id = coupon.id)
           OR EXISTS (SELECT 1 FROM billing_coupon_plans AS restricted
                       WHERE restricted.coupon_id = coupon.id AND restricted.plan_id = price.plan_id))
    ORDER BY redemption.redeemed_at DESC, redemption.id DESC LIMIT 1
) AS discount ON true
WHERE (s.ended_at IS NULL OR s.ended_at >= %(at)s)
  AND (last.entry IS NOT NULL
       OR (s.created_at < %(at)s AND NOT EXISTS (SELECT 1 FROM billing_subscriptionevent AS started
                                                  WHERE started.subscription_id = s.id AND started.action = 'started')))
"""

LIVE_STATUSES = "('trialing', 'active', 'past_due', 'paused')"

SUBSCRIPTION_DAYS_DELETE = "DELETE FROM billing_subscriptionrevenueday WHERE day = %(day)s"

SUBSCRIPTION_DAYS_INSERT = f"""
INSERT INTO billing_subscriptionrevenueday (day, subscription_id, tenant_id, plan_id, price_id, currency, status,
                                            quantity, mrr)
SELECT %(day)s, subscription_id, tenant_id, plan_id, price_id, currency, status, quantity, mrr
FROM ({STATES_AT}) AS states
WHERE status IN {LIVE_STATUSES}
"""

# The previous day's rows: stored when that day was snapshotted, else computed at its end (the first day of a
# backfill), so that a day's movements are always against the day before.
PREVIOUS_STORED = """
SELECT subscription_id, tenant_id, currency, status, mrr FROM billing_subscriptionrevenueday WHERE day = %(previous)s
"""
PREVIOUS_COMPUTED = f"""
SELECT subscription_id, tenant_id, currency, status, mrr
FROM ({STATES_AT.replace("%(at)s", "%(previous_at)s")}) AS states
WHERE status IN {LIVE_STATUSES}
"""

REVENUE_DAY_DELETE = "DELETE FROM billing_revenueday WHERE day = %(day)s"

# Movements are per customer (tenant) and currency, day against day before: MRR from 0 is new, or reactivation
# when the customer paid in this currency on any earlier day; to 0 is churned; up is expansion, down contraction.
# A trial converted when its subscription is active or past due with MRR the next day; lost when it ended
# otherwise (canceled, expired, or on a price with nothing to pay).
REVENUE_DAY_INSERT = """
WITH current_rows AS (
    SELECT subscription_id, tenant_id, currency, status, mrr FROM billing_subscriptionrevenueday WHERE day = %(day)s
), previous_rows AS ({previous}),
current_customers AS (SELECT tenant_id, currency, sum(mrr) AS mrr FROM current_rows GROUP BY tenant_id, currency),
previous_customers AS (SELECT tenant_id, currency, sum(mrr) AS mrr FROM previous_rows GROUP BY tenant_id, currency),
pairs AS (
    SELECT coalesce(c.tenant_id, p.tenant_id) AS tenant_id, coalesce(c.currency, p.currency) AS currency,
           coalesce(p.mrr, 0) AS before, coalesce(c.mrr, 0) AS after
    FROM current_customers AS c
    FULL JOIN previous_customers AS p ON p.tenant_id = c.tenant_id AND p.currency = c.currency
),
movements AS (
    SELECT currency, before, after,
           CASE WHEN before = 0 AND after > 0 THEN
                     CASE WHEN EXISTS (SELECT 1 FROM billing_subscriptionrevenueday AS earlier
                                        WHERE earlier.tenant_id = pairs.tenant_id AND earlier.currency = pairs.currency
                                          AND earlier.day < %(previous)s AND earlier.mrr > 0)
                          THEN 'reactivation' ELSE 'new' END
                WHEN before > 0 AND after = 0 THEN 'churned'
                WHEN after > before THEN 'expansion'
                WHEN after < before THEN 'contraction' END AS kind
    FROM pairs
),
moved AS (
    SELECT currency,
           count(*) FILTER (WHERE after > 0) AS customers,
           coalesce(sum(after) FILTER (WHERE kind = 'new'), 0) AS new_mrr,
           coalesce(sum(after - before) FILTER (WHERE kind = 'expansion'), 0) AS expansion_mrr,
           coalesce(sum(before - after) FILTER (WHERE kind = 'contraction'), 0) AS contraction_mrr,
           coalesce(sum(before) FILTER (WHERE kind = 'churned'), 0) AS churned_mrr,
           coalesce(sum(after) FILTER (WHERE kind = 'reactivation'), 0) AS reactivation_mrr,
           count(*) FILTER (WHERE kind = 'new') AS new_customers,
           count(*) FILTER (WHERE kind = 'churned') AS churned_customers,
           count(*) FILTER (WHERE kind = 'reactivation') AS reactivated_customers
    FROM movements GROUP BY currency
),
counted AS (
    SELECT currency, sum(mrr) AS mrr,
           count(*) FILTER (WHERE mrr > 0) AS paying,
           count(*) FILTER (WHERE status = 'trialing') AS trialing,
           count(*) FILTER (WHERE status = 'paused') AS paused,
           count(*) FILTER (WHERE status = 'past_due') AS past_due
    FROM current_rows GROUP BY currency
),
trials AS (
    SELECT p.currency,
           count(*) FILTER (WHERE c.status IN ('active', 'past_due') AND c.mrr > 0) AS converted,
           count(*) FILTER (WHERE c.subscription_id IS NULL
                            OR (c.status <> 'trialing' AND NOT (c.status IN ('active', 'past_due') AND c.mrr > 0)))
               AS lost
    FROM previous_rows AS p LEFT JOIN current_rows AS c ON c.subscription_id = p.subscription_id
    WHERE p.status = 'trialing'
    GROUP BY p.currency
),
currencies AS (
    SELECT currency FROM counted UNION SELECT currency FROM moved UNION SELECT currency FROM trials
)
INSERT INTO billing_revenueday (day, currency, mrr, customers, subscriptions_paying, subscriptions_trialing,
                                subscriptions_paused, subscriptions_past_due, new_mrr, expansion_mrr,
                                contraction_mrr, churned_mrr, reactivation_mrr, new_customers, churned_customers,
                                reactivated_customers, trials_converted, trials_lost)
SELECT %(day)s, currencies.currency, coalesce(counted.mrr, 0), coalesce(moved.customers, 0),
       coalesce(counted.paying, 0), coalesce(counted.trialing, 0), coalesce(counted.paused, 0),
       coalesce(counted.past_due, 0), coalesce(moved.new_mrr, 0), coalesce(moved.expansion_mrr, 0),
       coalesce(moved.contraction_mrr, 0), coalesce(moved.churned_mrr, 0), coalesce(moved.reactivation_mrr, 0),
       coalesce(moved.new_customers, 0), coalesce(moved.churned_customers, 0),
       coalesce(moved.reactivated_customers, 0), coalesce(trials.converted, 0), coalesce(trials.lost, 0)
FROM currencies
LEFT JOIN counted ON counted.currency = currencies.currency
LEFT JOIN moved ON moved.currency = currencies.currency
LEFT JOIN trials ON trials.currency = currencies.currency
"""

PLAN_DAYS_DELETE = "DELETE FROM billing_revenueplanday WHERE day = %(day)s"

PLAN_DAYS_INSERT = """
INSERT INTO billing_revenueplanday (day, plan_id, currency, active, trialing, paused, mrr)
SELECT %(day)s, plan_id, currency,
       count(*) FILTER (WHERE status IN ('active', 'past_due')),
       count(*) FILTER (WHERE status = 'trialing'),
       count(*) FILTER (WHERE status = 'paused'),
       sum(mrr)
FROM billing_subscriptionrevenueday WHERE day = %(day)s
GROUP BY plan_id, currency
"""

# What the invoices say per UTC day and currency, up to %(until)s: finalised invoices that were not voided
# (their totals on the issue day, their usage and AI-token lines too), amounts paid on the day they were paid,
# credit notes on the day they were issued. Failed payments are added from billing.analytics.selectors. A client
# invoice billed through a payer (collection consolidated) is invoiced through the payer's consolidated invoice,
# so only that one counts as invoiced (and the client pays nothing itself).
MONEY_BY_DAY = """
SELECT day, currency, sum(invoiced), sum(credited), sum(cash_collected), sum(usage_revenue), sum(token_revenue)
FROM (
    SELECT (issued_at AT TIME ZONE 'UTC')::date AS day, currency, total AS invoiced, 0 AS credited,
           0 AS cash_collected, 0 AS usage_revenue, 0 AS token_revenue
    FROM billing_invoice WHERE status IN ('open', 'paid', 'uncollectible') AND issued_at < %(until)s
      AND collection_method <> 'consolidated'
    UNION ALL
    SELECT (paid_at AT TIME ZONE 'UTC')::date, currency, 0, 0, amount_paid, 0, 0
    FROM billing_invoice WHERE status = 'paid' AND amount_paid > 0 AND paid_at < %(until)s
    UNION ALL
    SELECT (created_at AT TIME ZONE 'UTC')::date, currency, 0, amount, 0, 0, 0
    FROM billing_creditnote WHERE created_at < %(until)s
    UNION ALL
    SELECT (invoice.issued_at AT TIME ZONE 'UTC')::date, invoice.currency, 0, 0, 0,
           coalesce(sum(line.amount) FILTER (WHERE line.kind = ANY(%(usage_kinds)s)), 0),
           coalesce(sum(line.amount) FILTER (WHERE line.kind = ANY(%(token_kinds)s)), 0)
    FROM billing_invoiceline AS line JOIN billing_invoice AS invoice ON invoice.id = line.invoice_id
    WHERE invoice.status IN ('open', 'paid', 'uncollectible') AND invoice.issued_at < %(until)s
      AND line.kind = ANY(%(usage_kinds)s::text[] || %(token_kinds)s::text[])
    GROUP BY 1, 2
) AS money
GROUP BY day, currency
"""
