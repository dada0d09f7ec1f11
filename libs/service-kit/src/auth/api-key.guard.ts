import { ForbiddenException, Inject, Injectable, ServiceUnavailableException, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequestError } from '@tessera/bus';
import { PUBLIC_ROUTE, REQUIRED_SCOPE, type AuthContext } from './auth.decorators';
import { KEY_VERIFIER, type KeyVerifier } from './key-verifier';
import { hashApiKey, hasScope, type Scope } from './scopes';

/**
 * Guards every route: `Authorization: Bearer <key>` must name a live key (401 otherwise) that holds
 * the route's scope (403 otherwise). Deny by default: a route that declares no scope is refused.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(KEY_VERIFIER) private readonly verifier: KeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; auth?: AuthContext }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('Missing API key: send Authorization: Bearer <key>');
    let auth: AuthContext | null;
    try {
      auth = await this.verifier.verify(hashApiKey(match[1]!));
    } catch (error) {
      if (error instanceof RequestError && error.code === 'unavailable') throw new ServiceUnavailableException('Key verification is unavailable; retry shortly');
      throw error;
    }
    if (!auth) throw new UnauthorizedException('Invalid or revoked API key');
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (!scope) throw new ForbiddenException('This route declares no scope');
    if (!hasScope(auth.scopes, scope)) throw new ForbiddenException(`This key lacks the scope ${scope}`);
    request.auth = auth;
    return true;
  }
}
