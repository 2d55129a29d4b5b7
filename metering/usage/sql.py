"""SQL of the usage hot path: one statement ingests a whole batch (dedupe, store, roll up)."""

# One statement per batch, in the caller's transaction:
#   input     the batch, one row per transaction_id (the first wins), sorted so concurrent batches lock in order
#   fresh     claims each (tenant, transaction_id) in the non-partitioned key table; a key seen before (with
#             any timestamp) is skipped here, which is what makes ingestion exactly-once
#   inserted  stores only the fresh events in the monthly partitions
#   measured  applies each meter's filters and reads the aggregated property
#   uniques   records distinct values per month for unique_count meters
#   rolled    adds the batch to the hourly rollups (rows sorted, so concurrent batches cannot deadlock)
INGEST_BATCH = """
WITH input AS (
    SELECT DISTINCT ON (transaction_id) meter_code, transaction_id, ts, props
    FROM unnest(%(meters)s::text[], %(transaction_ids)s::text[], %(timestamps)s::timestamptz[],
                %(properties)s::jsonb[]) WITH ORDINALITY AS batch(meter_code, transaction_id, ts, props, position)
    ORDER BY transaction_id, position
),
fresh AS (
    INSERT INTO metering_usageeventkey (tenant_id, transaction_id, received_at)
    SELECT %(tenant_id)s, transaction_id, %(now)s FROM input
    ON CONFLICT DO NOTHING
    RETURNING transaction_id
),
inserted AS (
    INSERT INTO metering_usageevent (tenant_id, meter_code, transaction_id, "timestamp", properties, received_at)
    SELECT %(tenant_id)s, input.meter_code, input.transaction_id, input.ts, input.props, %(now)s
    FROM input JOIN fresh USING (transaction_id)
    RETURNING meter_code, "timestamp", properties
),
measured AS (
    SELECT inserted.meter_code, date_trunc('hour', inserted."timestamp") AS hour, inserted."timestamp",
           CASE WHEN meter.aggregation IN ('sum', 'max', 'latest')
                THEN (inserted.properties ->> meter.event_property)::numeric END AS value,
           CASE WHEN meter.aggregation = 'unique_count'
                THEN inserted.properties ->> meter.event_property END AS unique_value
    FROM inserted JOIN metering_meter AS meter ON meter.code = inserted.meter_code
    WHERE inserted.properties @> meter.filters
),
uniques AS (
    INSERT INTO metering_usageuniquevalue (tenant_id, meter_code, month, value)
    SELECT DISTINCT %(tenant_id)s, meter_code, date_trunc('month', "timestamp")::date, unique_value
    FROM measured WHERE unique_value IS NOT NULL
    ORDER BY 2, 3, 4
    ON CONFLICT DO NOTHING
    RETURNING 1
),
rolled AS (
    INSERT INTO metering_usagerollup AS rollup
        (tenant_id, meter_code, hour, event_count, value_sum, value_max, latest_at, latest_value)
    SELECT %(tenant_id)s, meter_code, hour, count(*), coalesce(sum(value), 0), max(value), max("timestamp"),
           (array_agg(value ORDER BY "timestamp" DESC))[1]
    FROM measured
    GROUP BY meter_code, hour
    ORDER BY meter_code, hour
    ON CONFLICT (tenant_id, meter_code, hour) DO UPDATE SET
        event_count = rollup.event_count + EXCLUDED.event_count,
        value_sum = rollup.value_sum + EXCLUDED.value_sum,
        value_max = GREATEST(rollup.value_max, EXCLUDED.value_max),
        latest_value = CASE WHEN rollup.latest_at IS NULL OR EXCLUDED.latest_at >= rollup.latest_at
                            THEN EXCLUDED.latest_value ELSE rollup.latest_value END,
        latest_at = GREATEST(rollup.latest_at, EXCLUDED.latest_at)
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM uniques), (SELECT count(*) FROM rolled)
"""

CREATE_EVENT_TABLE = """
CREATE SEQUENCE IF NOT EXISTS metering_usageevent_id_seq;
CREATE TABLE IF NOT EXISTS metering_usageevent (
    id bigint NOT NULL DEFAULT nextval('metering_usageevent_id_seq'),
    tenant_id bigint NOT NULL,
    meter_code varchar(50) NOT NULL,
    transaction_id varchar(255) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    properties jsonb NOT NULL DEFAULT '{}'::jsonb,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");
ALTER SEQUENCE metering_usageevent_id_seq OWNED BY metering_usageevent.id;
CREATE INDEX IF NOT EXISTS metering_usageevent_tenant_meter_ts
    ON metering_usageevent (tenant_id, meter_code, "timestamp");
CREATE TABLE IF NOT EXISTS metering_usageevent_default PARTITION OF metering_usageevent DEFAULT;
"""

DROP_EVENT_TABLE = "DROP TABLE IF EXISTS metering_usageevent CASCADE; DROP SEQUENCE IF EXISTS metering_usageevent_id_seq;"
