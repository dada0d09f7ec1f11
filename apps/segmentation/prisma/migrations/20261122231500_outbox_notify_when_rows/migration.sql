-- Evaluation writes its entered/exited events with one INSERT ... SELECT per membership diff, which
-- usually inserts no rows; notify the outbox relay only when a statement inserted some.
CREATE OR REPLACE FUNCTION "segmentation"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        PERFORM pg_notify('segmentation_outbox', '');
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER "outbox_notify" ON "segmentation"."outbox";

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "segmentation"."outbox" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "segmentation"."outbox_notify"();
