import { ProviderRegistry, type ProviderDefinition } from '@tessera/provider-core';
import { smtpEmail } from '@tessera/provider-email-smtp';
import { fcmPush } from '@tessera/provider-push-fcm';
import { twilioSms } from '@tessera/provider-sms-twilio';
import { httpWebhook } from '@tessera/provider-webhook-http';
import { whatsappCloud } from '@tessera/provider-whatsapp-cloud';

/** The installed plug-ins. Adding a vendor = a package under libs/providers + a line here. */
export const INSTALLED_PROVIDERS: readonly ProviderDefinition[] = [smtpEmail, twilioSms, whatsappCloud, fcmPush, httpWebhook];

export const PROVIDER_REGISTRY = Symbol('PROVIDER_REGISTRY');

/** Built once at start-up: a duplicate id stops the service here. */
export function buildProviderRegistry(): ProviderRegistry {
  return new ProviderRegistry(INSTALLED_PROVIDERS);
}
