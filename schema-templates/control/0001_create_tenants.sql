-- The tenant registry. Runs with search_path = control, so no schema is named.

-- migrate:up
CREATE TABLE tenants (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  slug             text        NOT NULL CONSTRAINT tenants_slug_key UNIQUE
                               CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{1,55}$' AND slug NOT LIKE 'pg\_%'),
  name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status           text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  plan             text        NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'premium', 'enterprise', 'custom')),
  -- Fixed at creation from the id, so renaming a tenant never moves its data.
  schema_name      text        NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[0-9a-f]{32}$'),
  -- Number of the newest template migration applied; lets a no-op migrate skip
  -- every tenant without opening its schema.
  template_version integer     NOT NULL DEFAULT 0 CHECK (template_version >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tenants_status_template_version_idx ON tenants (status, template_version);

-- migrate:down
DROP TABLE tenants;
