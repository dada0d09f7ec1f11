-- CreateTable
CREATE TABLE "erased_contact" (
    "contact_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "erased_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "erased_contact_pkey" PRIMARY KEY ("contact_id")
);
