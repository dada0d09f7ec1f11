-- DropIndex, CreateIndex
-- The index on received_at alone let the planner answer the de-dup lookup (id = ANY(...) AND
-- received_at >= ...) by walking every row of the last 48 h whenever a partition's statistics were
-- stale (a new day's partition, a fresh database): hundreds of ms per lookup. Replay, the one
-- read by time, pages by (workspace_id, received_at, id), so it gets an index that matches it and
-- that the de-dup lookup (no workspace) cannot use.
DROP INDEX "event_archive_received_at_idx";
CREATE INDEX "event_archive_workspace_id_received_at_id_idx" ON "event_archive"("workspace_id", "received_at", "id");

-- Hand-written: the de-dup lookup, run for every tracking request. A function so that its plan is
-- made once per connection and reused (generic): planned afresh, this small query spent several
-- times its execution in the planner, which weighs every partition; the generic plan prunes them
-- when it starts instead (the bound depends on now()), so it probes the last days' primary keys only.
CREATE FUNCTION "archived_event_ids"(ids uuid[], hours int) RETURNS SETOF uuid LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
BEGIN
    RETURN QUERY SELECT a.id FROM event_archive a WHERE a.id = ANY(ids) AND a.received_at >= now() - make_interval(hours => hours);
END;
$$;
