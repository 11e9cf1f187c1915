import * as identity from '../../data/identity/identity.service.js';
import { userList } from '../../data/users/user.repository.js';
import { actorOf } from '../actor.js';
import { builder } from '../builder.js';
import { UserRef, UserRole } from './user.js';

const AuthPayload = builder.objectRef<identity.Session>('AuthPayload').implement({
  description: 'A signed-in session: a short-lived access token and a single-use refresh token.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'Send as "Authorization: Bearer <token>".' }),
    accessTokenExpiresAt: t.field({ type: 'DateTime', resolve: (s) => s.accessTokenExpiresAt }),
    refreshToken: t.exposeString('refreshToken', { description: 'Works once: refresh returns a new one.' }),
    refreshTokenExpiresAt: t.field({ type: 'DateTime', resolve: (s) => s.refreshTokenExpiresAt }),
    user: t.field({ type: UserRef, resolve: (s) => s.user }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user, when the token belongs to a user of this tenant.',
    resolve: async (_root, _args, context) => {
      const id = context.currentUser?.userId;
      return id ? ((await userList.findByIds(context.db, [id]))[0] ?? null) : null;
    },
  }),
);

const InviteUserInput = builder.inputType('InviteUserInput', {
  fields: (t) => ({
    email: t.field({ type: 'EmailAddress', required: true }),
    name: t.string({ required: true }),
    role: t.field({ type: UserRole, required: true }),
  }),
});

const TokenPasswordInput = builder.inputType('TokenPasswordInput', {
  fields: (t) => ({ token: t.string({ required: true }), password: t.string({ required: true }) }),
});

// skipTypeScopes marks the only mutations callable without a token.
builder.mutationFields((t) => ({
  login: t.field({
    type: AuthPayload,
    skipTypeScopes: true,
    args: { email: t.arg({ type: 'EmailAddress', required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => identity.login(context.db, await context.identity(), args),
  }),
  refresh: t.field({
    type: AuthPayload,
    skipTypeScopes: true,
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => identity.refresh(context.db, await context.identity(), args.refreshToken),
  }),
  logout: t.boolean({
    skipTypeScopes: true,
    description: 'Revokes the refresh token and every token rotated from the same sign-in.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      await identity.logout(context.db, args.refreshToken);
      return true;
    },
  }),
  inviteUser: t.field({
    type: UserRef,
    authScopes: { admin: true },
    description: 'Creates the user and mails them a single-use token for acceptInvite (valid 7 days).',
    args: { input: t.arg({ type: InviteUserInput, required: true }) },
    resolve: async (_root, { input }, context) => identity.inviteUser(context.db, await context.identity(), actorOf(context), input),
  }),
  acceptInvite: t.field({
    type: AuthPayload,
    skipTypeScopes: true,
    args: { input: t.arg({ type: TokenPasswordInput, required: true }) },
    resolve: async (_root, { input }, context) => identity.acceptInvite(context.db, await context.identity(), input),
  }),
  requestPasswordReset: t.boolean({
    skipTypeScopes: true,
    description: 'Mails a reset token (valid 1 hour) if the account exists; always returns true.',
    args: { email: t.arg({ type: 'EmailAddress', required: true }) },
    resolve: async (_root, args, context) => {
      await identity.requestPasswordReset(context.db, await context.identity(), args.email);
      return true;
    },
  }),
  resetPassword: t.boolean({
    skipTypeScopes: true,
    description: 'Sets a new password with a reset token and signs the user out everywhere.',
    args: { input: t.arg({ type: TokenPasswordInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      await identity.resetPassword(context.db, input);
      return true;
    },
  }),
}));
