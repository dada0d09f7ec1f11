-- One row per batch of sends, holding the status events that batch publishes (one line each: id,
-- subject, workspace id, traceparent, tracestate, envelope JSON, tab-separated; see outboxBatchText
-- in @tessera/bus). A row per event in "outbox" (jsonb parsed on insert, printed again by the relay,
-- two index entries, its own delete) costs Postgres several times more per event; the shared relay
-- publishes this table too (layout 'batch-rows'). "outbox" stays: callbacks, tracking and unsubscribes
-- still write it.
-- CreateTable
CREATE TABLE "messaging"."outbox_batch" (
    "id" BIGSERIAL NOT NULL,
    "events" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_batch_pkey" PRIMARY KEY ("id")
);

-- Hand-written: envelopes compress poorly and live for milliseconds; skip TOAST compression.
ALTER TABLE "messaging"."outbox_batch" ALTER COLUMN "events" SET STORAGE EXTERNAL;

-- Wake-up for the relay, delivered at commit (notifications of one transaction are merged).
CREATE FUNCTION "messaging"."outbox_batch_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_outbox_batch', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_batch_notify" AFTER INSERT ON "messaging"."outbox_batch"
    FOR EACH ROW EXECUTE FUNCTION "messaging"."outbox_batch_notify"();
