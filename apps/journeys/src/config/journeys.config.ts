import { BaseConfig } from '@tessera/config';

/** Nothing beyond the shared settings yet. */
export class JourneysConfig extends BaseConfig {}
