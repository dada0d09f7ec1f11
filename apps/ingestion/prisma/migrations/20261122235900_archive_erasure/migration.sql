-- CreateTable
CREATE TABLE "erased_identity" (
    "workspace_id" UUID NOT NULL,
    "sha256" BYTEA NOT NULL,
    "erased_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "erased_identity_pkey" PRIMARY KEY ("workspace_id","sha256")
);

-- Hand-written: crm.contact.erased.v2 names people by sha256 of their ids' UTF-8 bytes. The
-- archive is found by the same hash through expression indexes (Prisma does not model them), so
-- an erasure probes indexes instead of hashing every archived row. Index expressions must be
-- IMMUTABLE, and convert_to() is only STABLE; doubling backslashes and casting to bytea yields
-- the same bytes (the database is UTF8) from immutable parts only, so Postgres inlines this
-- function (about 3x cheaper per archived row than calling a wrapper around convert_to).
CREATE FUNCTION "identity_sha256"(value text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT sha256(replace(value, E'\\', E'\\\\')::bytea) $$;

CREATE INDEX "event_archive_workspace_id_user_id_sha256_idx" ON "event_archive"("workspace_id", "identity_sha256"("user_id")) WHERE "user_id" IS NOT NULL;
CREATE INDEX "event_archive_workspace_id_anonymous_id_sha256_idx" ON "event_archive"("workspace_id", "identity_sha256"("anonymous_id")) WHERE "anonymous_id" IS NOT NULL;
