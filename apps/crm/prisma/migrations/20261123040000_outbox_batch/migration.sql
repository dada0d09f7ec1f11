-- One row per batch of identify/alias/group events from the bus, holding all of the events that
-- batch publishes (one line each: id, subject, workspace id, traceparent, tracestate, envelope
-- JSON, tab-separated; see outboxBatchText in @tessera/bus). Measured at 500 profile updates per
-- batch, a row per event in "outbox" (jsonb parsed on insert, printed again by the relay, two
-- index entries, its own delete) cost Postgres about 35 µs per update; a batch row about 4 µs.
-- The shared relay publishes this table too (layout 'batch-rows'). "outbox" stays: the API
-- paths still write it.
-- CreateTable
CREATE TABLE "crm"."outbox_batch" (
    "id" BIGSERIAL NOT NULL,
    "events" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_batch_pkey" PRIMARY KEY ("id")
);

-- Hand-written: envelopes compress poorly and live for milliseconds; skip TOAST compression.
ALTER TABLE "crm"."outbox_batch" ALTER COLUMN "events" SET STORAGE EXTERNAL;

-- Wake-up for the relay, delivered at commit (notifications of one transaction are merged).
CREATE FUNCTION "crm"."outbox_batch_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crm_outbox_batch', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_batch_notify" AFTER INSERT ON "crm"."outbox_batch"
    FOR EACH ROW EXECUTE FUNCTION "crm"."outbox_batch_notify"();
