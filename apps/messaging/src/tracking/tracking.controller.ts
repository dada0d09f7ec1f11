import { Controller, Get, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '@tessera/service-kit';
import { MessagesRepository } from '../messages/messages.repository';
import { StatusService } from '../messages/status.service';
import { TrackingLinks } from './tracking-links';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** Recipients' links: open pixel, click redirect, unsubscribe. Public; the HMAC token is the authority. */
@ApiExcludeController()
@Public()
@Controller('v1/t')
export class TrackingController {
  constructor(
    private readonly links: TrackingLinks,
    private readonly messages: MessagesRepository,
    private readonly status: StatusService,
  ) {}

  @Get('o/:token')
  async open(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const payload = this.links.verify(token.replace(/\.gif$/, ''), 'o');
    const message = payload ? await this.messages.findById(payload.messageId) : null;
    // Only the first open is recorded: image proxies refetch.
    if (message) await this.status.apply(message, 'opened', undefined, new Date(), { once: true });
    await reply.code(200).header('content-type', 'image/gif').header('cache-control', 'no-store, max-age=0').send(PIXEL);
  }

  @Get('c/:token')
  async click(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const payload = this.links.verify(token, 'c');
    const message = payload ? await this.messages.findById(payload.messageId) : null;
    const url = message && Array.isArray(message.links) ? (message.links as unknown[])[payload!.index] : undefined;
    if (typeof url !== 'string') throw new NotFoundException('Unknown link');
    await this.status.apply(message!, 'clicked', url, new Date());
    await reply.code(302).header('location', url).header('cache-control', 'no-store').send();
  }

  /** RFC 8058 one-click (mailbox providers POST "List-Unsubscribe=One-Click"), and the page's form. */
  @Post('u/:token')
  @HttpCode(200)
  async unsubscribe(@Param('token') token: string): Promise<{ unsubscribed: true }> {
    const payload = this.links.verify(token, 'u');
    const message = payload ? await this.messages.findById(payload.messageId) : null;
    if (!message || message.channel === 'webhook') throw new NotFoundException('Unknown link');
    await this.status.unsubscribe(message, message.channel, message.subscriptionGroup ?? undefined, 'one_click');
    return { unsubscribed: true };
  }

  /** The preference link: a page that asks before acting (link scanners follow GETs). */
  @Get('u/:token')
  async unsubscribePage(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    if (!this.links.verify(token, 'u')) throw new NotFoundException('Unknown link');
    const html = `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post"><p>Stop receiving these messages?</p><button type="submit">Unsubscribe</button></form>`;
    await reply.code(200).header('content-type', 'text/html; charset=utf-8').send(html);
  }
}
