import { BaseConfig } from '@tessera/config';

/** The CRM needs nothing beyond the shared settings yet. */
export class CrmConfig extends BaseConfig {}
