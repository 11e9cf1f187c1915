import { userList, type User } from '../../data/users/user.repository.js';
import { updateUserRole } from '../../data/users/user.service.js';
import { boundedText } from '../../data/validation.js';
import { USER_ROLES } from '../../db/tenant-database.js';
import { actorOf } from '../actor.js';
import { builder, CreatedOrder } from '../builder.js';
import { keysetConnection } from '../connection.js';
import { enumValues } from '../enum-values.js';
import { parseGlobalId } from '../global-id.js';
import { loadByIds } from './load-by-ids.js';

export const UserRole = builder.enumType('UserRole', { values: enumValues(USER_ROLES) });

export const UserRef = builder.loadableNode('User', {
  id: { resolve: (user: User) => user.id },
  load: loadByIds('User', userList.findByIds),
  fields: (t) => ({
    email: t.field({ type: 'EmailAddress', resolve: (user) => user.email }),
    name: t.exposeString('name'),
    role: t.field({ type: UserRole, resolve: (user) => user.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => user.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (user) => user.updated_at }),
  }),
});

const UserFilter = builder.inputType('UserFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Part of the name or email, case-insensitive.' }),
    role: t.field({ type: UserRole }),
  }),
});

builder.queryField('users', (t) =>
  t.connection({
    type: UserRef,
    args: { filter: t.arg({ type: UserFilter }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => {
      const filter = {
        search: args.filter?.search == null ? undefined : boundedText('filter.search', args.filter.search, 200),
        role: args.filter?.role ?? undefined,
      };
      return keysetConnection(userList, { context, info, args, filter });
    },
  }),
);

const UpdateUserRoleInput = builder.inputType('UpdateUserRoleInput', {
  fields: (t) => ({ userId: t.id({ required: true }), role: t.field({ type: UserRole, required: true }) }),
});

builder.mutationField('updateUserRole', (t) =>
  t.field({
    type: UserRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: UpdateUserRoleInput, required: true }) },
    resolve: (_root, { input }, context) =>
      updateUserRole(context.db, actorOf(context), { userId: parseGlobalId('input.userId', String(input.userId), 'User'), role: input.role }),
  }),
);
