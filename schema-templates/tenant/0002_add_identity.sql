-- Built-in identity: password logins, rotating refresh tokens, and
-- single-use tokens for invitations and password resets. Tokens are stored
-- only as sha256 hashes.
--
-- Every constraint is named, with the name PostgreSQL gave it when this file
-- left it unnamed, because Citus refuses an unnamed constraint in ALTER TABLE
-- ... ADD COLUMN. The earlier text gave the very same catalog, so a tenant that
-- applied it has not drifted:
-- migrate:supersedes 5bcb3e5a1792f74f1b92e96b23e22a55f9505de895cb7f8883d94adf6f56ea1a

-- migrate:up
ALTER TABLE users ADD COLUMN password_hash text CONSTRAINT users_password_hash_check CHECK (password_hash LIKE 'scrypt$%');

CREATE TABLE refresh_tokens (
  id          uuid        CONSTRAINT refresh_tokens_pkey PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid        NOT NULL CONSTRAINT refresh_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
  -- Every token rotated from one login shares a family; reuse of any
  -- superseded token revokes the whole family.
  family_id   uuid        NOT NULL,
  token_hash  text        NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE one_time_tokens (
  id          uuid        CONSTRAINT one_time_tokens_pkey PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid        NOT NULL CONSTRAINT one_time_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
  purpose     text        NOT NULL CONSTRAINT one_time_tokens_purpose_check CHECK (purpose IN ('invite', 'password_reset')),
  token_hash  text        NOT NULL CONSTRAINT one_time_tokens_token_hash_key UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id);

-- migrate:down
DROP TABLE one_time_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE users DROP COLUMN password_hash;
