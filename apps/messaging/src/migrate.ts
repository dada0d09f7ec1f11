// Applies the messaging service's migrations and exits (the Kubernetes pre-install/pre-upgrade Job runs this).
import { join } from 'node:path';
import { runMigrationsCli } from '@tessera/db';

void runMigrationsCli({ schema: 'messaging', migrationsDir: join(__dirname, '..', 'prisma', 'migrations') });
