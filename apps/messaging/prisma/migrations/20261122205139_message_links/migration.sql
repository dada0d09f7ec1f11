-- AlterTable
ALTER TABLE "message" ADD COLUMN     "links" JSONB,
ADD COLUMN     "subscription_group" TEXT;
