-- CreateTable
CREATE TABLE "person_alias" (
    "workspace_id" UUID NOT NULL,
    "alias_key" TEXT NOT NULL,
    "person_key" TEXT NOT NULL,

    CONSTRAINT "person_alias_pkey" PRIMARY KEY ("workspace_id","alias_key")
);

-- CreateIndex
CREATE INDEX "person_alias_workspace_id_person_key_idx" ON "person_alias"("workspace_id", "person_key");
