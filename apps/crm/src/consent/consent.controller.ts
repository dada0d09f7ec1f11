import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CHANNELS, type Channel } from '@tessera/contracts';
import { Public, RequireScope, WorkspaceId } from '@tessera/service-kit';
import { validationFailed } from '../contacts/errors';
import { ConsentView, SetConsentDto, UnsubscribeDto, UnsubscribeTokenDto } from './consent.dto';
import { ConsentService } from './consent.service';

function channelOf(value: string): Channel {
  if (!(CHANNELS as readonly string[]).includes(value)) throw validationFailed([{ path: 'channel', messages: [`channel must be one of ${CHANNELS.join(', ')}`] }]);
  return value as Channel;
}

@ApiTags('consent')
@Controller('v1')
export class ConsentController {
  constructor(private readonly consent: ConsentService) {}

  @Put('contacts/:id/consent/:channel')
  @ApiBearerAuth()
  @RequireScope('crm:write')
  set(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('channel') channel: string, @Body() body: SetConsentDto): Promise<ConsentView> {
    return this.consent.set(ws, id, { channel: channelOf(channel), group: body.group, state: body.state, source: body.source ?? 'api', changedAt: body.changedAt ? new Date(body.changedAt) : new Date() });
  }

  @Get('contacts/:id/consent')
  @ApiBearerAuth()
  @RequireScope('crm:read')
  get(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<ConsentView> {
    return this.consent.get(ws, id);
  }

  /** Mints the token for an unsubscribe link (messaging puts it in List-Unsubscribe and footers). */
  @Post('consent/unsubscribe-tokens')
  @ApiBearerAuth()
  @RequireScope('crm:write')
  token(@WorkspaceId() ws: string, @Body() body: UnsubscribeTokenDto): { token: string; expiresAt: string } {
    return this.consent.issueToken(ws, body.contactId, body.channel, body.group);
  }

  /** One-click unsubscribe (RFC 8058 style): no API key, the signed token is the authority. */
  @Post('consent/unsubscribe')
  @Public()
  @HttpCode(200)
  unsubscribe(@Body() body: UnsubscribeDto): Promise<{ contactId: string; channel: string; group: string | null; state: 'unsubscribed' }> {
    return this.consent.unsubscribe(body.token);
  }
}
