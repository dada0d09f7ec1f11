import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { MessagingConfig } from '../config/messaging.config';
import { rewriteHtml, TokenSigner, type TokenKind, type TokenPayload } from './tokens';

/** Builds and checks the signed open / click / unsubscribe URLs. */
@Injectable()
export class TrackingLinks {
  readonly signer: TokenSigner;
  private readonly base: string;

  constructor(@Inject(SERVICE_CONFIG) config: MessagingConfig) {
    if (!config.MESSAGING_TRACKING_SECRET) new Logger('TrackingLinks').warn('MESSAGING_TRACKING_SECRET is not set: tracking and unsubscribe links stop working at restart');
    this.signer = new TokenSigner(config.MESSAGING_TRACKING_SECRET ?? randomBytes(32).toString('hex'));
    this.base = config.MESSAGING_PUBLIC_URL.replace(/\/+$/, '');
  }

  unsubscribeUrl(messageId: string): string {
    return `${this.base}/v1/t/u/${this.signer.sign('u', messageId)}`;
  }

  /** Rewrites links (not the unsubscribe one) and adds the open pixel; returns the tracked URLs. */
  trackHtml(html: string, messageId: string, unsubscribeUrl?: string): { html: string; links: string[] } {
    return rewriteHtml(html, (i) => `${this.base}/v1/t/c/${this.signer.sign('c', messageId, i)}`, `${this.base}/v1/t/o/${this.signer.sign('o', messageId)}.gif`, new Set(unsubscribeUrl ? [unsubscribeUrl] : []));
  }

  verify(token: string, kind: TokenKind): TokenPayload | undefined {
    return this.signer.verify(token, kind);
  }
}
