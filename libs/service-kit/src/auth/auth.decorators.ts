import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Scope } from './scopes';

export const PUBLIC_ROUTE = 'tessera:public';
export const REQUIRED_SCOPE = 'tessera:scope';

/** The authenticated caller, attached to the request by the guard. */
export interface AuthContext {
  keyId: string;
  workspaceId: string;
  scopes: string[];
}

/** A route anyone may call (health, metrics, inbound webhooks that check their own signatures). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The scope a key needs for this route (e.g. `crm:write`). Routes without one are refused. */
export const RequireScope = (scope: Scope): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPE, scope);

/** The caller's workspace id: every query is scoped by it, so one workspace never sees another's data. */
export const WorkspaceId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const auth = (ctx.switchToHttp().getRequest() as { auth?: AuthContext }).auth;
  if (!auth) throw new Error('WorkspaceId used on a route without authentication');
  return auth.workspaceId;
});

export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext | undefined => (ctx.switchToHttp().getRequest() as { auth?: AuthContext }).auth);
