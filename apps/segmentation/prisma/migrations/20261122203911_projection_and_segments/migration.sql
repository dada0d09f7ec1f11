-- CreateTable
CREATE TABLE "contact" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "attrs" JSONB NOT NULL DEFAULT '{}',
    "timezone" TEXT,
    "external_id" TEXT,
    "version" TEXT,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity" (
    "workspace_id" UUID NOT NULL,
    "person_key" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,

    CONSTRAINT "identity_pkey" PRIMARY KEY ("workspace_id","person_key")
);

-- CreateTable
CREATE TABLE "contact_event" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID,
    "person_key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "properties" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "contact_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "grp" TEXT NOT NULL DEFAULT '',
    "state" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "consent_pkey" PRIMARY KEY ("contact_id","channel","grp")
);

-- CreateTable
CREATE TABLE "contact_tag" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "tag" TEXT NOT NULL,

    CONSTRAINT "contact_tag_pkey" PRIMARY KEY ("contact_id","tag")
);

-- CreateTable
CREATE TABLE "list_member" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "list_id" TEXT NOT NULL,

    CONSTRAINT "list_member_pkey" PRIMARY KEY ("contact_id","list_id")
);

-- CreateTable
CREATE TABLE "custom_object" (
    "workspace_id" UUID NOT NULL,
    "object_type" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,
    "properties" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "custom_object_pkey" PRIMARY KEY ("workspace_id","object_type","object_id")
);

-- CreateTable
CREATE TABLE "message_engagement" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "template_id" TEXT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "message_engagement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "definition" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "deps" TEXT[],
    "time_based" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL DEFAULT 'computing',
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "member_count" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_version" (
    "segment_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "definition" JSONB NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segment_version_pkey" PRIMARY KEY ("segment_id","version")
);

-- CreateTable
CREATE TABLE "membership" (
    "segment_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "entered_at" TIMESTAMPTZ(6) NOT NULL,
    "reason" JSONB NOT NULL,
    "segment_version" INTEGER NOT NULL,

    CONSTRAINT "membership_pkey" PRIMARY KEY ("segment_id","contact_id")
);

-- CreateTable
CREATE TABLE "time_check" (
    "segment_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "next_check_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "time_check_pkey" PRIMARY KEY ("segment_id","contact_id")
);

-- CreateTable
CREATE TABLE "segment_size" (
    "segment_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "size" INTEGER NOT NULL,

    CONSTRAINT "segment_size_pkey" PRIMARY KEY ("segment_id","at")
);

-- CreateTable
CREATE TABLE "processed_event" (
    "id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "contact_workspace_id_id_idx" ON "contact"("workspace_id", "id");

-- CreateIndex
CREATE INDEX "identity_contact_id_idx" ON "identity"("contact_id");

-- CreateIndex
CREATE INDEX "contact_event_contact_id_name_occurred_at_idx" ON "contact_event"("contact_id", "name", "occurred_at");

-- CreateIndex
CREATE INDEX "contact_event_workspace_id_name_occurred_at_idx" ON "contact_event"("workspace_id", "name", "occurred_at");

-- CreateIndex
CREATE INDEX "contact_event_workspace_id_person_key_idx" ON "contact_event"("workspace_id", "person_key");

-- CreateIndex
CREATE INDEX "custom_object_contact_id_object_type_idx" ON "custom_object"("contact_id", "object_type");

-- CreateIndex
CREATE INDEX "message_engagement_contact_id_action_occurred_at_idx" ON "message_engagement"("contact_id", "action", "occurred_at");

-- CreateIndex
CREATE INDEX "segment_workspace_id_created_at_idx" ON "segment"("workspace_id", "created_at");

-- CreateIndex
CREATE INDEX "membership_contact_id_idx" ON "membership"("contact_id");

-- CreateIndex
CREATE INDEX "time_check_next_check_at_idx" ON "time_check"("next_check_at");

-- CreateIndex
CREATE INDEX "time_check_contact_id_idx" ON "time_check"("contact_id");

-- CreateIndex
CREATE INDEX "processed_event_processed_at_idx" ON "processed_event"("processed_at");

-- Hand-written: lenient casts used by compiled segment SQL. A malformed attribute value makes a
-- condition false instead of failing the whole query. A bare date (YYYY-MM-DD) means UTC midnight.
CREATE FUNCTION "segmentation"."try_ts"(v text) RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF v IS NULL OR v !~ '^\d{4}-\d{2}-\d{2}' THEN RETURN NULL; END IF;
    IF v ~ '^\d{4}-\d{2}-\d{2}$' THEN RETURN (v || 'T00:00:00Z')::timestamptz; END IF;
    RETURN v::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

-- The calendar date an attribute names (its first 10 characters), for anniversaries.
CREATE FUNCTION "segmentation"."try_date"(v text) RETURNS date LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF v IS NULL OR v !~ '^\d{4}-\d{2}-\d{2}' THEN RETURN NULL; END IF;
    RETURN substr(v, 1, 10)::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;
