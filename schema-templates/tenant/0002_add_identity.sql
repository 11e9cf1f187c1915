-- Built-in identity: password logins, rotating refresh tokens, and
-- single-use tokens for invitations and password resets. Tokens are stored
-- only as sha256 hashes.

-- migrate:up
ALTER TABLE users ADD COLUMN password_hash text CHECK (password_hash LIKE 'scrypt$%');

CREATE TABLE refresh_tokens (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- Every token rotated from one login shares a family; reuse of any
  -- superseded token revokes the whole family.
  family_id   uuid        NOT NULL,
  token_hash  text        NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE one_time_tokens (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     text        NOT NULL CHECK (purpose IN ('invite', 'password_reset')),
  token_hash  text        NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id);

-- migrate:down
DROP TABLE one_time_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE users DROP COLUMN password_hash;
