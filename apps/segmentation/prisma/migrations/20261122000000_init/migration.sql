-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "segmentation";

-- CreateTable
CREATE TABLE "segmentation"."outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "segmentation"."outbox"("created_at");

-- Outbox wake-up (hand-written; Prisma does not model triggers): one payload-free NOTIFY per
-- inserting statement, delivered at commit, so the relay LISTENing on "segmentation_outbox" reads the
-- table at once instead of waiting for its next poll.
CREATE FUNCTION "segmentation"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('segmentation_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "segmentation"."outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "segmentation"."outbox_notify"();
