-- One row per committed batch of steps, holding all of the batch's events (one line each:
-- id, subject, workspace id, traceparent, tracestate, envelope JSON, tab-separated; JSON text never
-- holds a raw tab or newline). Measured at 5,000 timer wake-ups/s (four events each), a row per
-- event in "outbox" (jsonb parsed on insert, printed again by the relay, two index entries, its
-- own delete) was the largest share of Postgres's work per wake-up; the shared relay publishes
-- this table too (layout 'batch-rows'). "outbox" stays: the rest of journeys still writes it.
-- CreateTable
CREATE TABLE "journeys"."outbox_batch" (
    "id" BIGSERIAL NOT NULL,
    "events" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_batch_pkey" PRIMARY KEY ("id")
);

-- Hand-written: envelopes compress poorly and live for milliseconds; skip TOAST compression.
ALTER TABLE "journeys"."outbox_batch" ALTER COLUMN "events" SET STORAGE EXTERNAL;

-- Wake-up for the relay, delivered at commit (notifications of one transaction are merged).
CREATE FUNCTION "journeys"."outbox_batch_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('journeys_outbox_batch', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_batch_notify" AFTER INSERT ON "journeys"."outbox_batch"
    FOR EACH ROW EXECUTE FUNCTION "journeys"."outbox_batch_notify"();
