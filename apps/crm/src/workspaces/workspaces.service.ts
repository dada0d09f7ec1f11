import { Inject, Injectable, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { outboxRow } from '@tessera/bus';
import type { BaseConfig } from '@tessera/config';
import { API_KEY_REVOKED_V1, DEFAULT_WORKSPACE_ID, WORKSPACE_CREATED_V1 } from '@tessera/contracts';
import { hashApiKey, SERVICE_CONFIG, type AuthContext } from '@tessera/service-kit';
import type { ApiKey, Workspace } from '../generated/prisma/client';
import { WorkspacesRepository, type NewApiKey } from './workspaces.repository';

/** Management keys look like `tsk_<43 url-safe characters>` (32 random bytes). */
export function generateApiKey(): string {
  return `tsk_${randomBytes(32).toString('base64url')}`;
}

export type ApiKeyPublic = Omit<ApiKey, 'keyHash' | 'workspaceId'>;

@Injectable()
export class WorkspacesService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: WorkspacesRepository,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {}

  /** On first start with an empty database: the default workspace and its admin key. */
  async onApplicationBootstrap(): Promise<void> {
    const givenKey = this.config.TESSERA_ADMIN_KEY;
    const key = givenKey ?? generateApiKey();
    const created = await this.create({ id: DEFAULT_WORKSPACE_ID, name: 'Default', timezone: 'UTC', isDefault: true }, key);
    if (created && !givenKey) {
      // Printed once, on stdout, not in the JSON logs (which redact keys anyway).
      process.stdout.write(`\nTessera default workspace created. Admin key (shown once): ${key}\n\n`);
    }
  }

  /** `timezone` null (sent as JSON null) means the default, as when it is absent. */
  async createWorkspace(name: string, timezone?: string | null): Promise<{ workspace: Workspace; adminKey: ApiKeyPublic & { key: string } }> {
    const key = generateApiKey();
    const id = uuidv7();
    await this.create({ id, name, timezone: timezone ?? 'UTC', isDefault: false }, key);
    const workspace = (await this.repository.findWorkspace(id))!;
    const [adminKey] = await this.repository.listKeys(id);
    return { workspace, adminKey: { ...publicKey(adminKey!), key } };
  }

  async getWorkspace(id: string): Promise<Workspace> {
    const workspace = await this.repository.findWorkspace(id);
    if (!workspace) throw new NotFoundException('Workspace not found');
    return workspace;
  }

  async createKey(workspaceId: string, name: string, scopes: string[]): Promise<ApiKeyPublic & { key: string }> {
    const key = generateApiKey();
    const created = await this.repository.createKey(newKey(workspaceId, name, key, scopes));
    return { ...publicKey(created), key };
  }

  async listKeys(workspaceId: string): Promise<ApiKeyPublic[]> {
    return (await this.repository.listKeys(workspaceId)).map(publicKey);
  }

  async revokeKey(workspaceId: string, id: string): Promise<ApiKeyPublic> {
    const revoked = await this.repository.revokeKey(workspaceId, id, (key) =>
      outboxRow('crm', API_KEY_REVOKED_V1.subject, { keyId: key.id, keyHash: key.keyHash }, { workspaceId }),
    );
    if (!revoked) throw new NotFoundException('No live API key with this id in this workspace');
    return publicKey(revoked);
  }

  /** Answers key verification for every service (over the bus). */
  async verify(keyHash: string): Promise<AuthContext | null> {
    const key = await this.repository.findLiveKeyByHash(keyHash);
    return key ? { keyId: key.id, workspaceId: key.workspaceId, scopes: key.scopes } : null;
  }

  private create(workspace: Omit<Workspace, 'createdAt'>, key: string): Promise<boolean> {
    const event = outboxRow('crm', WORKSPACE_CREATED_V1.subject, { workspaceId: workspace.id, name: workspace.name, timezone: workspace.timezone, isDefault: workspace.isDefault }, { workspaceId: workspace.id });
    return this.repository.createWorkspace(workspace, newKey(workspace.id, 'admin', key, ['*']), [event]);
  }
}

function newKey(workspaceId: string, name: string, key: string, scopes: string[]): NewApiKey {
  return { id: uuidv7(), workspaceId, name, keyHash: hashApiKey(key), prefix: key.slice(0, 8), scopes };
}

function publicKey({ keyHash: _hash, workspaceId: _ws, ...rest }: ApiKey): ApiKeyPublic {
  return rest;
}
