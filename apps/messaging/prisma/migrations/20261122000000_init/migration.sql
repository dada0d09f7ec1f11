-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "messaging";

-- CreateTable
CREATE TABLE "messaging"."outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "messaging"."outbox"("created_at");

-- Outbox wake-up (hand-written; Prisma does not model triggers): one payload-free NOTIFY per
-- inserting statement, delivered at commit, so the relay LISTENing on "messaging_outbox" reads the
-- table at once instead of waiting for its next poll.
CREATE FUNCTION "messaging"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "messaging"."outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "messaging"."outbox_notify"();
