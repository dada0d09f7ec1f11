import { servicePrismaConfig } from '../../libs/db/prisma-config';

export default servicePrismaConfig('crm');
