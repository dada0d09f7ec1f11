-- Batch rows a writer publishes itself right after commit (OutboxRelay.handOff in @tessera/bus):
-- the relay is not woken for them, and takes one only when it is still there DIRECT_GRACE_MS
-- later (its writer crashed or could not reach the bus).
-- AlterTable
ALTER TABLE "journeys"."outbox_batch" ADD COLUMN     "direct" BOOLEAN NOT NULL DEFAULT false;

-- Hand-written: wake the relay only for the rows nobody hands off.
DROP TRIGGER "outbox_batch_notify" ON "journeys"."outbox_batch";
CREATE TRIGGER "outbox_batch_notify" AFTER INSERT ON "journeys"."outbox_batch"
    FOR EACH ROW WHEN (NOT NEW.direct) EXECUTE FUNCTION "journeys"."outbox_batch_notify"();
