import { randomBytes } from 'node:crypto';

// Known secrets and personal data used during a security run; none may ever appear in any log line.

const token = (prefix: string): string => `${prefix}${randomBytes(18).toString('base64url')}`;

export function makeSecrets() {
  return {
    adminKey: token('tsk_secadmin_'),
    writeKey: token('wk_secwrite_'),
    unsubscribeSecret: token('unsub-secret-0123456789-'),
    trackingSecret: token('track-secret-0123456789-'),
    databasePassword: token('PgPass'),
    webhookSecrets: {
      stripe: token('whsec_'),
      shopify: token('shpss_'),
      whatsapp: token('metaapp'),
      twilio: token('twiliotok'),
      generic: token('generichmac'),
    },
    providerSecret: token('providersecret'),
  };
}

export type Secrets = ReturnType<typeof makeSecrets>;
