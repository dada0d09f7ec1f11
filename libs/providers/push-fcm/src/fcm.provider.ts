import { IsString, Matches, MaxLength } from 'class-validator';
import { callVendor, defineProvider, HttpProviderOptions, joinUrl, PushProvider, type PushMessage, type SendResult } from '@tessera/provider-core';

export class FcmOptions extends HttpProviderOptions {
  override baseUrl: string = 'https://fcm.googleapis.com';

  @Matches(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, { message: 'projectId must be a Firebase project id' })
  projectId!: string;

  /**
   * OAuth 2 access token with the firebase.messaging scope. Minting it from a service-account key
   * (JWT bearer grant) is not implemented yet: an operator or sidecar refreshes this value.
   */
  @IsString()
  @MaxLength(4096)
  accessToken!: string;
}

/** FCM v1's error body: `{ error: { code, message, status, details: [{ errorCode }] } }`. */
interface FcmError {
  error?: { code?: number; message?: string; status?: string; details?: { errorCode?: string }[] };
}

/** Push through the FCM HTTP v1 API (`POST /v1/projects/{project}/messages:send`). */
export class FcmPushProvider extends PushProvider {
  constructor(private readonly options: FcmOptions) {
    super();
  }

  async send(message: PushMessage): Promise<SendResult> {
    const response = await callVendor(
      {
        url: joinUrl(this.options.baseUrl, `/v1/projects/${this.options.projectId}/messages:send`),
        headers: { authorization: `Bearer ${this.options.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: { token: message.to, notification: { title: message.title, body: message.body }, ...(message.data ? { data: message.data } : {}) } }),
        timeoutMs: this.options.timeoutMs,
      },
      ({ json }) => {
        const error = (json as FcmError | undefined)?.error;
        const code = error?.details?.find((d) => d.errorCode)?.errorCode ?? error?.status;
        return { reason: error?.message ? `${code ?? error.code}: ${error.message}` : '', code };
      },
    );
    const name = (response.json as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string') throw new Error('FCM answered without a message name');
    return { providerMessageId: name };
  }
}

export const fcmPush = defineProvider({
  id: 'fcm',
  channel: 'push',
  optionsSchema: FcmOptions,
  secretOptions: ['accessToken'],
  create: (options) => new FcmPushProvider(options),
});
