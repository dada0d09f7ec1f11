-- AlterTable
ALTER TABLE "contact" ADD COLUMN     "removed" TEXT[] DEFAULT ARRAY[]::TEXT[];
