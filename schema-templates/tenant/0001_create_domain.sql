-- The first tenant domain. Runs with search_path = the tenant schema only, so
-- no schema is named here. Keyset indexes are (…, created_at DESC, id DESC):
-- lists page newest first by (created_at, id), and a backward scan serves the
-- oldest-first order.

-- migrate:up
CREATE TABLE users (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email      text        NOT NULL CHECK (length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role       text        NOT NULL DEFAULT 'member' CHECK (role IN ('viewer', 'member', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Unique within the tenant only: each tenant has its own users table.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);

CREATE TABLE projects (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text,
  created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_name_key ON projects (lower(name));
CREATE INDEX projects_created_at_id_idx ON projects (created_at DESC, id DESC);

CREATE TABLE deployments (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  status      text        NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'building', 'active', 'failed', 'archived')),
  environment text        NOT NULL DEFAULT 'production' CHECK (environment ~ '^[a-z][a-z0-9_-]{0,31}$'),
  url         text        CHECK (url ~ '^https?://'),
  created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX deployments_status_created_at_id_idx ON deployments (status, created_at DESC, id DESC);
CREATE INDEX deployments_created_at_id_idx ON deployments (created_at DESC, id DESC);
CREATE INDEX deployments_project_created_at_id_idx ON deployments (project_id, created_at DESC, id DESC);

CREATE TABLE workflows (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status     text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'disabled')),
  config     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflows_status_created_at_id_idx ON workflows (status, created_at DESC, id DESC);
CREATE INDEX workflows_created_at_id_idx ON workflows (created_at DESC, id DESC);

-- Written in the same transaction as the change it records; never updated.
CREATE TABLE audit_log (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  actor_id    uuid,
  action      text        NOT NULL,
  entity_type text        NOT NULL,
  entity_id   uuid,
  details     jsonb       NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_at_id_idx ON audit_log (created_at DESC, id DESC);

-- migrate:down
DROP TABLE audit_log;
DROP TABLE workflows;
DROP TABLE deployments;
DROP TABLE projects;
DROP TABLE users;
