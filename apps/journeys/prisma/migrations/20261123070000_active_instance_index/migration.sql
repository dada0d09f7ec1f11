-- Hand-written (Prisma does not model partial indexes). The journey/node index is read only for
-- active instances (moving them to another version, listing a journey's active instances), yet
-- every instance stayed in it after it ended, and most instances are written in an ended state
-- (an immediate send inserts a completed instance; the last timer completes one): an index entry
-- per instance that nothing reads. Measured on a batch of 20 completed instances: ~7 µs of
-- Postgres CPU fewer per instance (49 instead of 56). Counts by status use (journey_id, contact_id).
DROP INDEX "journeys"."instance_journey_id_status_current_node_idx";
CREATE INDEX "instance_active_node_idx" ON "journeys"."instance"("journey_id", "version", "current_node") WHERE "status" = 'active';
