-- De-duplication reads the event archive (IngestRepository.alreadyArchived); this table was never written.
-- DropTable
DROP TABLE "received_message";
