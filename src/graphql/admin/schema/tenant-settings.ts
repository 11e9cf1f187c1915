import { listReveals, type SettingReveal } from '../../../control/settings/tenant-settings.repository.js';
import {
  deleteTenantSetting,
  revealTenantSetting,
  rewrapDataKeys,
  rotateTenantDataKey,
  setTenantSetting,
  tenantSettingViews,
  type RewrapSummary,
  type SettingView,
} from '../../../control/settings/tenant-settings.service.js';
import { adminBuilder } from '../builder.js';
import { AdminTenantRef } from './tenant.js';

/** What the audit log must never record: use-admin-audit-log.ts leaves out variables bound to an argument marked so. */
const SENSITIVE = { sensitive: true } as const;

const SettingRef = adminBuilder.objectRef<SettingView>('TenantSetting').implement({
  description: "A tenant's setting. A secret's value is stored encrypted and never listed: revealTenantSetting shows it, and is recorded.",
  fields: (t) => ({
    key: t.exposeString('key'),
    secret: t.exposeBoolean('secret'),
    value: t.exposeString('value', { nullable: true, description: 'Null for a secret.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const RevealRef = adminBuilder.objectRef<SettingReveal>('TenantSettingReveal').implement({
  description: 'Who read a secret setting in clear, and when.',
  fields: (t) => ({
    key: t.exposeString('key'),
    revealedBy: t.exposeString('revealedBy'),
    revealedAt: t.expose('revealedAt', { type: 'DateTime' }),
  }),
});

const RewrapFailureRef = adminBuilder.objectRef<RewrapSummary['failed'][number]>('SettingsKeyRewrapFailure').implement({
  fields: (t) => ({ slug: t.exposeString('slug'), code: t.exposeString('code'), message: t.exposeString('message') }),
});

const RewrapRef = adminBuilder.objectRef<RewrapSummary>('SettingsKeyRewrap').implement({
  fields: (t) => ({
    rewrapped: t.exposeInt('rewrapped', { description: 'Tenant data keys now wrapped by the current master key.' }),
    remaining: t.exposeInt('remaining', { description: 'Data keys still wrapped by another master key when the run ended; only at 0 may the previous master keys be removed.' }),
    masterKeyId: t.exposeString('masterKeyId', { description: 'The current master key: the first 16 hex digits of its SHA-256.' }),
    failed: t.field({
      type: [RewrapFailureRef],
      description: 'Data keys that did not unwrap (master key not configured, or the row altered), left as they were.',
      resolve: (summary) => [...summary.failed],
    }),
  }),
});

adminBuilder.objectFields(AdminTenantRef, (t) => ({
  settings: t.field({
    type: [SettingRef],
    description: 'Ordered by key; secrets masked.',
    resolve: (tenant, _args, { database }) => tenantSettingViews(database.control, tenant.id),
  }),
  settingReveals: t.field({
    type: [RevealRef],
    description: 'The 50 latest reveals of its secret settings, newest first.',
    resolve: (tenant, _args, { database }) => listReveals(database.control, tenant.id, 50),
  }),
}));

adminBuilder.mutationFields((t) => ({
  setTenantSetting: t.field({
    type: SettingRef,
    description: 'Creates or replaces a setting. A secret (secret: true) is encrypted under the tenant\'s data key; a secret cannot be turned plain (delete it first).',
    args: {
      slug: t.arg.string({ required: true }),
      key: t.arg.string({ required: true }),
      value: t.arg.string({ required: true, extensions: SENSITIVE }),
      secret: t.arg.boolean({ required: false, defaultValue: false }),
    },
    resolve: (_root, args, { database, settingsKeys }) => setTenantSetting(database, settingsKeys, args.slug, { key: args.key, value: args.value, secret: args.secret ?? false }),
  }),
  deleteTenantSetting: t.boolean({
    args: { slug: t.arg.string({ required: true }), key: t.arg.string({ required: true }) },
    resolve: async (_root, args, { database }) => {
      await deleteTenantSetting(database, args.slug, args.key);
      return true;
    },
  }),
  revealTenantSetting: t.string({
    description: "A setting's value in clear; for a secret, the reveal is recorded (Tenant.settingReveals) with the operator's token subject.",
    args: { slug: t.arg.string({ required: true }), key: t.arg.string({ required: true }) },
    resolve: async (_root, args, { database, settingsKeys, admin }) => (await revealTenantSetting(database, settingsKeys, args.slug, args.key, `admin:${admin.subject}`)).value,
  }),
  rotateTenantSettingsKey: t.int({
    description: "A new data key for the tenant; every secret is re-encrypted under it in one transaction. Returns how many secrets were.",
    args: { slug: t.arg.string({ required: true }) },
    resolve: async (_root, args, { database, settingsKeys }) => (await rotateTenantDataKey(database, settingsKeys, args.slug)).secrets,
  }),
  rewrapSettingsKeys: t.field({
    type: RewrapRef,
    description: 'Master key rotation: every tenant data key wrapped by a previous master key is wrapped by the current one (SETTINGS_MASTER_KEY).',
    resolve: (_root, _args, { database, settingsKeys }) => rewrapDataKeys(database.control, settingsKeys),
  }),
}));
