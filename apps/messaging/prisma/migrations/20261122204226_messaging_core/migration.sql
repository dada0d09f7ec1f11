-- CreateTable
CREATE TABLE "provider_config" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "rate_limit_per_second" INTEGER,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_config_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "subscription_group" TEXT,
    "required_variables" TEXT[],
    "content" JSONB NOT NULL,
    "latest_version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_version" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "channel" TEXT NOT NULL,
    "subscription_group" TEXT,
    "required_variables" TEXT[],
    "content" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_partial" (
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_partial_pkey" PRIMARY KEY ("workspace_id","name")
);

-- CreateTable
CREATE TABLE "contact" (
    "workspace_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "timezone" TEXT,
    "locale" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "consent" JSONB NOT NULL DEFAULT '{}',
    "last_inbound_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "suppression" (
    "workspace_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppression_pkey" PRIMARY KEY ("workspace_id","channel","address")
);

-- CreateTable
CREATE TABLE "message" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "template_id" TEXT NOT NULL,
    "template_version" INTEGER,
    "journey_id" TEXT,
    "campaign_id" TEXT,
    "recipient" TEXT,
    "provider_config_id" UUID,
    "provider_message_id" TEXT,
    "status" TEXT NOT NULL,
    "failure_reason" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "claimed_until" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_status_event" (
    "id" BIGSERIAL NOT NULL,
    "message_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "detail" TEXT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_status_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "routing_rule" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "condition" JSONB NOT NULL,
    "queue" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "routing_rule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "contact_id" UUID,
    "queue" TEXT NOT NULL,
    "rule_id" UUID,
    "assignee" TEXT,
    "status" TEXT NOT NULL DEFAULT 'open',
    "last_message_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "conversation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbound_message" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "conversation_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "from" TEXT NOT NULL,
    "text" TEXT,
    "button_payload" TEXT,
    "opt_out_keyword" BOOLEAN NOT NULL DEFAULT false,
    "received_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "inbound_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "provider_config_workspace_id_channel_idx" ON "provider_config"("workspace_id", "channel");

-- CreateIndex
CREATE UNIQUE INDEX "provider_config_workspace_id_name_key" ON "provider_config"("workspace_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "template_workspace_id_name_key" ON "template"("workspace_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "template_version_template_id_version_key" ON "template_version"("template_id", "version");

-- CreateIndex
CREATE INDEX "contact_workspace_id_phone_idx" ON "contact"("workspace_id", "phone");

-- CreateIndex
CREATE INDEX "message_provider_message_id_idx" ON "message"("provider_message_id");

-- CreateIndex
CREATE INDEX "message_workspace_id_contact_id_created_at_idx" ON "message"("workspace_id", "contact_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "message_workspace_id_idempotency_key_key" ON "message"("workspace_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "message_status_event_message_id_occurred_at_idx" ON "message_status_event"("message_id", "occurred_at");

-- CreateIndex
CREATE INDEX "routing_rule_workspace_id_priority_idx" ON "routing_rule"("workspace_id", "priority");

-- CreateIndex
CREATE INDEX "conversation_workspace_id_channel_address_status_idx" ON "conversation"("workspace_id", "channel", "address", "status");

-- CreateIndex
CREATE INDEX "inbound_message_conversation_id_received_at_idx" ON "inbound_message"("conversation_id", "received_at");
