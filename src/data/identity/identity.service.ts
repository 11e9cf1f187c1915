import { createHash, randomUUID } from 'node:crypto';
import { randomSecret } from '../../auth/random-secret.js';
import { issueAccessToken, type TokenSettings } from '../../auth/access-token.js';
import type { ResetMailLimit } from '../../auth/reset-mail-limit.js';
import type { LoginThrottle } from '../../auth/login-throttle.js';
import { requireMailer, type Mailer } from '../../auth/mailer.js';
import type { Plan } from '../../control/plans/plan.repository.js';
import { decoyHash, hashPassword, verifyPassword } from '../../auth/password-hash.js';
import type { TenantKeys } from '../../auth/tenant-keys.js';
import type { Tenant } from '../../db/control-database.js';
import type { UserRole } from '../../db/tenant-database.js';
import { SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import type { User } from '../users/user.repository.js';
import { reserveUserSeat } from '../users/user.service.js';
import { boundedText, pgErrorCode } from '../validation.js';
import * as identity from './identity.repository.js';

export interface IdentityDeps {
  readonly tenant: Tenant;
  /** Its maxUsers caps invitations. */
  readonly plan: Pick<Plan, 'name' | 'maxUsers'>;
  readonly keys: TenantKeys;
  readonly settings: TokenSettings & { readonly refreshTokenTtlSeconds: number };
  readonly throttle: LoginThrottle;
  readonly resetMails: ResetMailLimit;
  /** null: this server sends no mail, so invitations and resets are refused. */
  readonly mailer: Mailer | null;
  /** The caller's address, as the login throttle counts it. */
  readonly clientAddress: string;
  /** Where a mail that failed to send in the background is reported. */
  readonly reportError: (error: unknown) => void;
}

export interface Session {
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: Date;
  readonly user: User;
}

const PASSWORD_MIN_LENGTH = 10;
const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const RESET_TTL_MS = 3600 * 1000;

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

export async function login(db: TenantDb, deps: IdentityDeps, input: { email: string; password: string }): Promise<Session> {
  const attempt = await deps.throttle.reserve(`${deps.tenant.id}:${input.email.trim().toLowerCase()}`, deps.clientAddress);
  const user = await identity.findUserByEmail(db, input.email.trim());
  // Unknown emails cost one scrypt too, so timing does not reveal which exist.
  const matches = await verifyPassword(input.password, user?.password_hash ?? (await decoyHash()));
  if (!user || !user.password_hash || !matches) throw new SchemataError('INVALID_CREDENTIALS', 'the email or the password is wrong');
  await attempt.succeeded();
  await insertAuditEntry(db, { action: 'user.signed_in', entityType: 'user', entityId: user.id, actorId: user.id });
  return startSession(db, deps, user, randomUUID());
}

/**
 * Trades a refresh token for a new pair. Each refresh token works once; a
 * second use means it was copied, so the whole family (every token rotated
 * from that login) is revoked, and that revocation commits even though the
 * request fails.
 */
export async function refresh(db: TenantDb, deps: IdentityDeps, refreshToken: string): Promise<Session> {
  const row = await identity.findRefreshTokenForUpdate(db, sha256(refreshToken));
  if (!row || row.revoked_at || row.expires_at <= new Date()) {
    throw new SchemataError('INVALID_REFRESH_TOKEN', 'this refresh token is unknown, expired or revoked: sign in again', { field: 'refreshToken' });
  }
  if (row.used_at) {
    const revoked = await identity.revokeRefreshFamily(db, row.family_id);
    await insertAuditEntry(db, { action: 'refresh_token.reused', entityType: 'user', entityId: row.user_id, details: { revoked } });
    throw new SchemataError(
      'REFRESH_TOKEN_REUSED',
      'this refresh token was already used; every session from the same sign-in is now revoked: sign in again',
      { field: 'refreshToken' },
      true,
    );
  }
  await identity.markRefreshTokenUsed(db, row.id);
  const user = await identity.findUserById(db, row.user_id);
  if (!user) throw new SchemataError('INVALID_REFRESH_TOKEN', 'the user of this refresh token no longer exists', { field: 'refreshToken' });
  return startSession(db, deps, user, row.family_id);
}

/** Revokes the refresh token's family. Unknown tokens are accepted silently: logging out twice is not an error. */
export async function logout(db: TenantDb, refreshToken: string): Promise<void> {
  const row = await identity.findRefreshTokenForUpdate(db, sha256(refreshToken));
  if (row) await identity.revokeRefreshFamily(db, row.family_id);
}

export async function inviteUser(
  db: TenantDb,
  deps: IdentityDeps,
  actorId: string | null,
  input: { email: string; name: string; role: UserRole },
): Promise<User> {
  const mailer = requireMailer(deps.mailer);
  await reserveUserSeat(db, deps.plan);
  let user: User;
  try {
    user = await identity.insertInvitedUser(db, { email: input.email.trim(), name: boundedText('input.name', input.name, 200), role: input.role });
  } catch (error) {
    if (pgErrorCode(error) === '23505') throw new SchemataError('CONFLICT', 'input.email: a user with this email already exists', { field: 'input.email' });
    throw error;
  }
  const token = randomSecret();
  await identity.insertOneTimeToken(db, { user_id: user.id, purpose: 'invite', token_hash: sha256(token), expires_at: new Date(Date.now() + INVITE_TTL_MS) });
  await insertAuditEntry(db, { action: 'user.invited', entityType: 'user', entityId: user.id, actorId, details: { role: input.role } });
  await mailer.send({
    to: user.email,
    subject: `You are invited to ${deps.tenant.name}`,
    text: `Accept within 7 days with the acceptInvite mutation and this token:\n${token}`,
  });
  return user;
}

export async function acceptInvite(db: TenantDb, deps: IdentityDeps, input: { token: string; password: string }): Promise<Session> {
  const password = validatePassword('input.password', input.password);
  const taken = await identity.takeOneTimeToken(db, sha256(input.token), 'invite');
  if (!taken) throw invalidOneTimeToken();
  await identity.markOneTimeTokenUsed(db, taken.id);
  await identity.setPasswordHash(db, taken.user_id, await hashPassword(password));
  const user = (await identity.findUserById(db, taken.user_id))!;
  await insertAuditEntry(db, { action: 'user.invite_accepted', entityType: 'user', entityId: user.id, actorId: user.id });
  return startSession(db, deps, user, randomUUID());
}

/**
 * Always succeeds, and does the same work whether or not the account exists,
 * so neither the answer nor its timing tells: the token is made and hashed,
 * one statement inserts it for the account if there is one, and the mail
 * leaves in the background instead of being awaited on one path only. A user
 * without a password (one imported from an export without credentials, or
 * invited) may set one too, but only in a tenant without its own identity
 * provider: there, a password would be a way around the provider's policy.
 */
export async function requestPasswordReset(db: TenantDb, deps: IdentityDeps, email: string): Promise<void> {
  // Refused for every address alike, so the refusal reveals no account either.
  const mailer = requireMailer(deps.mailer);
  const token = randomSecret();
  const recipient = await identity.insertPasswordResetToken(
    db,
    email.trim(),
    { token_hash: sha256(token), expires_at: new Date(Date.now() + RESET_TTL_MS) },
    { withoutPassword: deps.keys.idp === undefined },
  );
  const message = { subject: `Reset your ${deps.tenant.name} password`, text: `Within one hour, use the resetPassword mutation with this token:\n${token}` };
  // Counted for every email alike, so the limit's bookkeeping tells nothing either.
  const mayMail = await deps.resetMails.allow(deps.tenant.id, email);
  if (recipient && mayMail) setImmediate(() => mailer.send({ to: recipient, ...message }).catch(deps.reportError));
}

/** Sets the new password, spends the token, and signs the user out everywhere. */
export async function resetPassword(db: TenantDb, input: { token: string; password: string }): Promise<void> {
  const password = validatePassword('input.password', input.password);
  const taken = await identity.takeOneTimeToken(db, sha256(input.token), 'password_reset');
  if (!taken) throw invalidOneTimeToken();
  await identity.markOneTimeTokenUsed(db, taken.id);
  await identity.setPasswordHash(db, taken.user_id, await hashPassword(password));
  await identity.revokeUserRefreshTokens(db, taken.user_id);
  await insertAuditEntry(db, { action: 'user.password_reset', entityType: 'user', entityId: taken.user_id, actorId: taken.user_id });
}

async function startSession(db: TenantDb, deps: IdentityDeps, user: User, familyId: string): Promise<Session> {
  const refreshToken = randomSecret();
  const refreshTokenExpiresAt = new Date(Date.now() + deps.settings.refreshTokenTtlSeconds * 1000);
  await identity.insertRefreshToken(db, { user_id: user.id, family_id: familyId, token_hash: sha256(refreshToken), expires_at: refreshTokenExpiresAt });
  const access = await issueAccessToken(deps.keys, { subject: user.id, role: user.role, tenantId: deps.tenant.id }, deps.settings);
  return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt, user };
}

function validatePassword(field: string, password: string): string {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > 200) {
    throw new SchemataError('WEAK_PASSWORD', `${field}: use ${PASSWORD_MIN_LENGTH} to 200 characters`, { field });
  }
  return password;
}

function invalidOneTimeToken(): SchemataError {
  return new SchemataError('INVALID_ONE_TIME_TOKEN', 'input.token: this token is unknown, expired or already used', { field: 'input.token' });
}

